import quopri, random, json, base64
from ipaddress import IPv6Address
random.seed(7)
qp = []
alpha = [0, 9, 10, 13, 32, 46, 61, 65, 97, 126, 127, 200, 255]
for n in [0, 1, 2, 5, 20, 75, 76, 77, 80, 150, 300]:
    for k in range(3):
        b = bytes(random.choice(alpha) if random.random() < 0.5 else random.randrange(256) for _ in range(n))
        qp.append([b.hex(), quopri.encodestring(b).decode()])
for s in [b'\x00abstract', b'/tmp/x.sock', b'a.\n.', b'.', b'line \nnext\t\n', b'crlf\r\nx \r\n', b'x' * 200, b'=' * 40, b'ab\r', b'a\rb']:
    qp.append([s.hex(), quopri.encodestring(s).decode()])
v6 = []
for _ in range(40):
    hs = [random.choice([0, 0, 0, 1, 0xffff, random.randrange(65536)]) for _ in range(8)]
    a = IPv6Address(sum(h << (16 * (7 - i)) for i, h in enumerate(hs)))
    v6.append([list(a.packed), a.compressed])
for s in ['::ffff:1.2.3.4', '::1.2.3.4', '::', '::1', '1::', 'fe80::1:0:0:1', '1:0:0:1:0:0:0:1', '0:0:1::']:
    a = IPv6Address(s); v6.append([list(a.packed), a.compressed])
b64 = []
for n in [0, 1, 2, 3, 56, 57, 58, 114, 200]:
    b = bytes(random.randrange(256) for _ in range(n)); b64.append([b.hex(), base64.encodebytes(b).decode()])
print(json.dumps({'qp': qp, 'v6': v6, 'b64': b64}))
