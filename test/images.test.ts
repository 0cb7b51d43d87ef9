import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { CkptError } from '../src/errors.js';
import {
  IMG_COMMON,
  IMG_SERVICE,
  MAGICS,
  base64Lines,
  decodeImage,
  hasMessage,
  entriesOf,
  isRawImageName,
  magicByName,
  magicByValue,
  messageInfo,
  pagemapOf,
  quotedPrintable,
  rawImageKind,
  critJsonChunks,
  stringifyJson,
  toCritJson,
  type CriuImage,
  type IpcQueuedMessage,
  type TcpQueues,
} from '../src/images/index.js';
import { schemaRoot } from './schema-root.js';

const ROOT = join(__dirname, '..');

// ---- building images by hand ----

function u32le(...vals: number[]): Uint8Array {
  const b = new Uint8Array(vals.length * 4);
  const v = new DataView(b.buffer);
  vals.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  return b;
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** protobuf bytes of a message, encoded by protobufjs from our schema. */
function pb(type: string, value: Record<string, unknown>): Uint8Array {
  const t = schemaRoot().lookupType(type);
  return t.encode(t.fromObject(value)).finish();
}

/** `u32 size + message` */
function entry(type: string, value: Record<string, unknown>): Uint8Array {
  const m = pb(type, value);
  return cat(u32le(m.length), m);
}

function image(magic: string, ...parts: Uint8Array[]): Uint8Array {
  const m = magicByName(magic)!;
  return cat(u32le(IMG_COMMON, m.value), ...parts);
}

const bytesOf = (s: string) => new TextEncoder().encode(s);
const hexBytes = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

function expectCkptError(f: () => unknown, file: string, offset: number | undefined, reason?: RegExp): CkptError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CkptError);
    const ce = e as CkptError;
    expect(ce.file).toBe(file);
    expect(ce.offset).toBe(offset);
    if (offset !== undefined) expect(ce.message).toContain(`${file} at byte ${offset}:`);
    if (reason) expect(ce.reason).toMatch(reason);
    return ce;
  }
  throw new Error('expected a CkptError');
}

const FOWN = { uid: 0, euid: 0, signum: 0, pid_type: 0, pid: 0 };
const good = () => entry('pstree_entry', { pid: 1, ppid: 0, pgid: 1, sid: 1, threads: [1] });
// Python 3.14 outputs (quopri.encodestring, base64.encodebytes, IPv6Address.compressed), made in the checkpoint lab.
const QP_VECTORS: Array<[string, string]> = [
  ["", ""],
  ["", ""],
  ["", ""],
  ["0a", "\n"],
  ["00", "=00"],
  ["61", "a"],
  ["7e61", "~a"],
  ["0909", "\t=09"],
  ["617e", "a~"],
  ["0d1fcb0d0a", "\r=1F=CB\r\n"],
  ["0a9d5c7ebe", "\n=9D\\~=BE"],
  ["c800fedaee", "=C8=00=FE=DA=EE"],
  ["e80d7c20af93253d2e417f61a02ee909f221c87e", "=E8\r| =AF=93%=3D.A=7Fa=A0.=E9\t=F2!=C8~"],
  ["e43db1417e00200d414120dc8eb7c24d0a0d7e20", "=E4=3D=B1A~=00 \rAA =DC=8E=B7=C2M\n\r~=20"],
  ["3da31bffc83d7f0d0d09007e090d0d4cb1f241ee", "=3D=A3=1B=FF=C8=3D=7F\r\r\t=00~\t\r\rL=B1=F2A=EE"],
  ["200987c80061c80d982e85550da863cd7441008f0db0c8ba090d41007f7f7f3d660a7fffcac8510a7e4af2b3610034470d6c0d0da63d1fb5d742095d4c413da6f7361d20090e207e66e7f4", " \t=87=C8=00a=C8\r=98.=85U\r=A8c=CDtA=00=8F\r=B0=C8=BA\t\rA=00=7F=7F=7F=3Df\n=7F=FF=CA=C8Q\n~J=F2=B3a=004G\rl\r\r=A6=3D=1F=B5=D7B\t]LA=3D=A6=F76=1D \t=0E ~f=E7=F4"],
  ["7e8467463d09db7f094fbb0a7030417f52ce0d090941006120ff0920ffff3d8461fd2dffd9892d2a71092ed589167a520a2069618a0012c8617d36ddc99d75c8472e427f82003d90960a41", "~=84gF=3D\t=DB=7F\tO=BB\np0A=7FR=CE\r\t\tA=00a =FF\t =FF=FF=3D=84a=FD-=FF=D9=89-*q\t.=D5=89=16zR\n ia=8A=00=12=C8a}6=DD=C9=9Du=C8G.B=7F=82=00=3D=90=96\nA"],
  ["2ea5200a3d2066ff204900200d614fc7fdc84ac8db470875002ec0197d00092f21f20978697ffc277f00650a7f9b44007f0d94924166090809e6c60d09612e7f3976410a41cf0a3d2eff3d", ".=A5=20\n=3D f=FF I=00 \raO=C7=FD=C8J=C8=DBG=08u=00.=C0=19}=00\t/!=F2\txi=7F=FC'=7F=00e\n=7F=9BD=00=7F\r=94=92Af\t=08\t=E6=C6\r\ta.=7F9vA\nA=CF\n=3D.=FF=3D"],
  ["0d94097e3d1800924c202e2edbcc6819d2ff20614120c8850d613d0a61fee7e66109610dff0ad3c8c0ff20b8616e0d7f200b3df2fa3def7f726137eaffff7e9b80df3920620d00208e7c0d0e", "\r=94\t~=3D=18=00=92L ..=DB=CCh=19=D2=FF aA =C8=85\ra=3D\na=FE=E7=E6a\ta\r=FF\n=D3=C8=C0=FF =B8an\r=7F =0B=3D=F2=FA=3D=EF=7Fra7=EA=FF=FF~=9B=80=DF9 b\r=00 =\n=8E|\r=0E"],
  ["9d0d7f297f2e00d73dff61419f630d207e0af87f7e3d0048c83dc839540aef7fbfe20009096affddc82ee42ef23d7f144100c87e207ec8a298ff210dc8c5dc435dc8c8782eff28c87e7f6152", "=9D\r=7F)=7F.=00=D7=3D=FFaA=9Fc\r ~\n=F8=7F~=3D=00H=C8=3D=C89T\n=EF=7F=BF=E2=00\t\tj=FF=DD=C8.=E4.=F2=3D=7F=14A=00=C8~ ~=C8=A2=98=FF!\r=C8=C5=\n=DCC]=C8=C8x.=FF(=C8~=7FaR"],
  ["35876a41e40a7e783e967e20650a0a7e090d7633124176bf20007e090a20037eb32e0020c868a72e2000f7094f2ecbd19d007ed4ffbac868ded8092e0a00cb7e57200a37ff6500f77ec6c852", "5=87jA=E4\n~x>=96~ e\n\n~\t\rv3=12Av=BF =00~=09\n =03~=B3.=00 =C8h=A7. =00=F7\tO.=CB=D1=9D=00~=D4=FF=BA=C8h=DE=D8\t.\n=00=CB~W=20\n7=FFe=00=F7~=C6=C8R"],
  ["71645d15612e0d626113a57e7fd70d7f61004141eaf2093dff61142aa0286145093841ff54712e817e4161f52079003d20c0ffffb8e73561c9be2eb8090a18617fa01120dd2e437e0b7e097220", "qd]=15a.\rba=13=A5~=7F=D7\r=7Fa=00AA=EA=F2\t=3D=FFa=14*=A0(aE\t8A=FFTq.=81~Aa=\n=F5 y=00=3D =C0=FF=FF=B8=E75a=C9=BE.=B8=09\n=18a=7F=A0=11 =DD.C~=0B~\tr=20"],
  ["6841007ce67f7fcd0561e3fc00610a003561640dd4592000f4033dee7f0d8500c88688df870d612067a73d0d7ff0610dc820c82757007eb00e0a15177e6621c40d00ff2c930aff963d2e20ff2e", "hA=00|=E6=7F=7F=CD=05a=E3=FC=00a\n=005ad\r=D4Y =00=F4=03=3D=EE=7F\r=85=00=C8=86=88=DF=87\ra g=A7=3D\r=7F=F0a\r=C8 =\n=C8'W=00~=B0=0E\n=15=17~f!=C4\r=00=FF,=93\n=FF=96=3D. =FF."],
  ["f30f0fff416e2e9300931b41c85eb185510d760929c835b63d2c7f0d3d577f417e112ee6a54183407f7988c84f7eb22e84347f3d0a980d093d00ff0d970ac8c83dd7753f2ec83d3d503d00d15d", "=F3=0F=0F=FFAn.=93=00=93=1BA=C8^=B1=85Q\rv\t)=C85=B6=3D,=7F\r=3DW=7FA~=11.=E6=\n=A5A=83@=7Fy=88=C8O~=B2.=844=7F=3D\n=98\r\t=3D=00=FF\r=97\n=C8=C8=3D=D7u?.=C8=3D=3DP=3D=00=D1]"],
  ["a7c73661c86633e9f3bdd2e97f613eb6813d093db437c861c80afffff0734a7fd32040f00d3ddaf6c8b720417f2e201d7e47b0076b960977410a3d552e98c809e03b870a6141fb0a032e7e20bf7f7f7f", "=A7=C76a=C8f3=E9=F3=BD=D2=E9=7Fa>=B6=81=3D\t=3D=B47=C8a=C8\n=FF=FF=F0sJ=7F=D3 @=F0\r=3D=DA=F6=C8=B7 A=7F. =1D~G=B0=07k=96\twA\n=3DU.=98=C8\t=E0;=87\naA=FB\n=03.~ =BF=7F=7F=7F"],
  ["7ec8a930f849c80a7f416b2e61204161b0fca9c87e2c146119090df31ec02a7f590ad7060a845e2e7e1b6109d7cf004f3d2a6c07003e2d09007ec819c84a2b61eb821a057f282054f9a17ef04a3b7fff", "~=C8=A90=F8I=C8\n=7FAk.a Aa=B0=FC=A9=C8~,=14a=19\t\r=F3=1E=C0*=7FY\n=D7=06\n=84^.~=1Ba\t=D7=CF=00O=3D*l=07=00>-\t=00~=C8=19=C8J+a=EB=82=1A=05=7F( T=F9=A1=\n~=F0J;=7F=FF"],
  ["3de7aa00aa079e7e7fffe700207e150a4bffff09f8667700ee8204ebb57761a47e0d0a947eff4c4109414f0061307e7eff0943000a0061c809cb2e7e09c90a0d71201e0e1861f70a0098e1352e093d0d", "=3D=E7=AA=00=AA=07=9E~=7F=FF=E7=00 ~=15\nK=FF=FF\t=F8fw=00=EE=82=04=EB=B5wa=A4~\n=94~=FFLA\tAO=00a0~~=FF\tC=00\n=00a=C8\t=CB.~\t=C9\n\rq =1E=0E=18a=F7\n=00=98=E15.\t=3D\r"],
  ["060d50707e4731c5262e0d7f2e00414a0a3d00200a094161ff6c92ff2e2079200ac84908610aff923d3d7e0a75642cfd597e6267c8d01cb17ffc3df47f0abbc87eb6e424c82ec31f09fd0044090a2000c8857eede309174161383d744bec5409c71200ad2ea41b0ab43d05612e61733de8147f8b12800000200a7e897e4b612093c861417167bb6141202e61ca2e0d2e206eff612e00", "=06\rPp~G1=C5&.\r=7F.=00AJ\n=3D=00=20\n\tAa=FFl=92=FF. y=20\n=C8I=08a\n=FF=92=3D=3D~\nud,=FDY~bg=C8=D0=1C=B1=7F=FC=3D=F4=7F\n=BB=C8~=B6=E4$=C8.=C3=1F\t=FD=00D=09\n =00=C8=85~=ED=E3\t=17Aa8=3DtK=ECT\t=C7=12=00=AD.=A4=1B\n=B4=3D=05a.as=3D=E8=14=7F=8B=12=80=00=00=20\n~=89~Ka =93=C8aAqg=BBaA .a=CA.\r. n=FFa.=00"],
  ["e1ff0d4f7f7f7e30f37f4109ff3c7eff7ec2ea2e3dc403ff2020df762e7ea63d0520fe61dfdc2e7f00752e4ed741af2f2e095920d7946a6000367f15059d02cb0764ff8849d24aff0e0afbdc1fa50d0a7f7e0d3d0d167e0d7ea1417e41223d713df80d0a0a202e61ab09d8b3c6203d7fffc80dff41ff510dc06a41744385e1bcce6cff6120c5c89fc80a767f22b998c80dc82e41435a", "=E1=FF\rO=7F=7F~0=F3=7FA\t=FF<~=FF~=C2=EA.=3D=C4=03=FF  =DFv.~=A6=3D=05 =FEa=\n=DF=DC.=7F=00u.N=D7A=AF/.\tY =D7=94j`=006=7F=15=05=9D=02=CB=07d=FF=88I=D2J=\n=FF=0E\n=FB=DC=1F=A5\n=7F~\r=3D\r=16~\r~=A1A~A\"=3Dq=3D=F8\n\n .a=AB\t=D8=B3=C6 =3D=7F=FF=C8\r=FFA=FFQ\r=C0jAtC=85=E1=BC=CEl=FFa =C5=C8=9F=\n=C8\nv=7F\"=B9=98=C8\r=C8.ACZ"],
  ["7fb30cec3d7f207e147e0d4f005b7482b2399218382e2e2cc8c871093d2ee76961410dc8850a787f563d7f0af97903e37f20c87e7fd9564feccf3a060d2009e55241940941f8c8c837deff04098028003d977f56c8a77fa30abd8100ffce6e4199290d41cd00f5c800d909d7207f5a54007e646141614f291ea998d7f6462e0e71e54bbed50dca0d0d392060807473392925443a347f", "=7F=B3=0C=EC=3D=7F ~=14~\rO=00[t=82=B29=92=188..,=C8=C8q\t=3D.=E7iaA\r=C8=85\nx=7FV=3D=7F\n=F9y=03=E3=7F =C8~=7F=D9VO=EC=CF:=06\r \t=E5RA=94\tA=F8=C8=C87=DE=FF=04\t=80(=\n=00=3D=97=7FV=C8=A7=7F=A3\n=BD=81=00=FF=CEnA=99)\rA=CD=00=F5=C8=00=D9\t=D7 =7FZT=00~daAaO)=1E=A9=98=D7=\n=F6F.=0Eq=E5K=BE=D5\r=CA\r\r9 `=80ts9)%D:4=7F"],
  ["0a622fffcf2ec86d09da2c67b5c8053e61b616b4617e7f2e417eff092061c28089070a41127ec851e57eb80d0a162ea9c6a07e0d41174920207e471130da322079489bae7d61ab2ef67cb20d7f41ff0a49207eae0d289befff22a38d0b89003d7e61640018ffae0261070e2e0dcfac3d2cabcc410da07ea8000a2e2e614ea97ec8009ee8b98c0033b97fff0e3e61ff7e0a52b37c412ec72e0dc8ffcdb37e3d72003d2eff20417ef4884590000d7fe7006bb8ff5d0a98390020c8ff7f3d7fab10670761dc0a2e0941db0d4b39fe270d728b070964d0b92ee8a9892ec4c6d1026182c1652c1119617f7f7ec8f0c27fc109617fa4ff728741b2f448ff68bb0a7f7f162edb0ac02e9a09203941594c0a61bdc3617e7ec8a5202efc67ffff00c0c8d07eb47e7ec820a828c23d7f0d", "\nb/=FF=CF.=C8m\t=DA,g=B5=C8=05>a=B6=16=B4a~=7F.A~=FF\t a=C2=80=89=07\nA=12~=C8Q=E5~=B8\n=16.=A9=C6=A0~\rA=17I  ~G=110=DA2 yH=9B=AE}a=AB.=F6|=B2\r=7FA=FF\nI ~=AE\r(=9B=EF=FF\"=A3=8D=0B=89=00=3D~ad=00=18=FF=AE=02a=07=0E.\r=CF=AC=3D,=\n=AB=CCA\r=A0~=A8=00\n..aN=A9~=C8=00=9E=E8=B9=8C=003=B9=7F=FF=0E>a=FF~\nR=B3|A.=C7.\r=C8=FF=CD=B3~=3Dr=00=3D.=FF A~=F4=88E=90=00\r=7F=E7=00k=B8=FF]\n=989=00 =C8=FF=7F=3D=7F=AB=10g=07a=DC\n.\tA=DB\rK9=FE'\rr=8B=07\td=D0=B9.=E8=A9=89.=C4=C6=D1=02a=82=C1e,=11=19a=7F=7F~=\n=C8=F0=C2=7F=C1\ta=7F=A4=FFr=87A=B2=F4H=FFh=BB\n=7F=7F=16.=DB\n=C0.=9A\t 9AYL\na=BD=C3a~~=C8=A5 .=FCg=FF=FF=00=C0=C8=D0~=B4~~=C8 =A8(=C2=3D=7F\r"],
  ["7e41df410941ff76cd96c63c0907096e1c66f7d547194a0d0361203d20d79d3d830a61ed48ff411a04d1a50d950de8c80d3d3f09fec8547f9651c8090d197fe24f44410da34e200dff76000a722f0adc3d2e0d252eff09202d41ff74997e000a192e0d2eff23e8610aec0031c87e277fb8097ff5200d4161417e830d610a7a0700ff6b750a20d9617e2b6f7e1f25327e59afff0a3d100d614d470d22f56123207f2e2fb2fcfec81b547f993bff81767e0d19ff7fafcf74adda027e09f37e0a0d3d10095fe2613d7f0a2eb92ec92e6053000a0dffb4c0ffd57e20b9c8c01effc81d3ce561ea2e008a7e17588f7b61612bc2c8207e00b1661fc89f98b85f412ece202e410de6d1a120f0d28cc8933eff619c2e0d31d338543cc9ae41b349d3932ed30078cec87f437f7a90c343", "~A=DFA\tA=FFv=CD=96=C6<\t=07\tn=1Cf=F7=D5G=19J\r=03a =3D =D7=9D=3D=83\na=EDH=FFA=1A=04=D1=A5\r=95\r=E8=C8\r=3D?\t=FE=C8T=7F=96Q=C8\t\r=19=7F=E2ODA\r=A3N =\n\r=FFv=00\nr/\n=DC=3D.\r%.=FF\t -A=FFt=99~=00\n=19.\r.=FF#=E8a\n=EC=001=C8~'=7F=B8\t=7F=F5 \rAaA~=83\ra\nz=07=00=FFku\n =D9a~+o~=1F%2~Y=AF=FF\n=3D=10\raMG\r\"=F5a# =7F./=B2=FC=FE=C8=1BT=7F=99;=FF=81v~\r=19=FF=7F=AF=CFt=AD=\n=DA=02~\t=F3~\n\r=3D=10\t_=E2a=3D=7F\n.=B9.=C9.`S=00\n\r=FF=B4=C0=FF=D5~ =B9=C8=C0=1E=FF=C8=1D<=E5a=EA.=00=8A~=17X=8F{aa+=C2=C8 ~=\n=00=B1f=1F=C8=9F=98=B8_A.=CE .A\r=E6=D1=A1 =F0=D2=8C=C8=93>=FFa=9C.\r1=D38T<=\n=C9=AEA=B3I=D3=93.=D3=00x=CE=C8=7FC=7Fz=90=C3C"],
  ["c48c8b722e28c83ea64147614110410d2e75ff900f0a612e7f09cc7e7f1ca88041dc7fe87e3dffc8080d6467970b080d7f8753a19cc82e00e8af0a4109a30a806b7f0ddfc43d00c8c2ffff7e24adec7f032e090ae17ee11b567f7af0f13cc30d757e72130d133d0d16d30a413531ffa5ffc301002b27947fc80aeac86a382cb42c3320ff41ab0300c86de96b281e0f45dc1c20c8ff2e3d417ff2a60d610db6a8ffaf522e2e6141617fd02d6f00dc5a55917f000d48229bc80009098ce6093dc8c8eb0dff0dab0025509f5c41007f7e092042b5c82e800a39543d0f0dc47bf1007f2e004141fb090ada0920412e24f7c03d7aa10941eb4341327f22410a0c1077474a2ebc5d0829000a9b66cd0a4141c80d6e41ff0da40a7fbf7a00ff416146613d0a451d3d7ed17e4d89d03d", "=C4=8C=8Br.(=C8>=A6AGaA=10A\r.u=FF=90=0F\na.=7F\t=CC~=7F=1C=A8=80A=DC=7F=E8~=3D=FF=C8=08\rdg=97=0B=08\r=7F=87S=A1=9C=C8.=\n=00=E8=AF\nA\t=A3\n=80k=7F\r=DF=C4=3D=00=C8=C2=FF=FF~$=AD=EC=7F=03.=09\n=E1~=E1=1BV=7Fz=F0=F1<=C3\ru~r=13\r=13=3D\r=16=D3\nA51=FF=A5=FF=C3=01=00+'=94=7F=C8\n=EA=C8j8,=B4,3 =FFA=AB=03=00=C8m=E9k(=1E=0FE=DC=1C =C8=FF.=3DA=7F=F2=A6\ra\r=\n=B6=A8=FF=AFR..aAa=7F=D0-o=00=DCZU=91=7F=00\rH\"=9B=C8=00\t\t=8C=E6\t=3D=C8=C8=\n=EB\r=FF\r=AB=00%P=9F\\A=00=7F~\t B=B5=C8.=80\n9T=3D=0F\r=C4{=F1=00=7F.=00AA=FB=09\n=DA\t A.$=F7=C0=3Dz=A1\tA=EBCA2=7F\"A\n=0C=10wGJ.=BC]=08)=00\n=9Bf=CD\nAA=C8\rnA=FF\r=A4\n=7F=BFz=00=FFAaFa=3D\nE=1D=3D~=D1~M=89=D0=3D"],
  ["006162737472616374", "=00abstract"],
  ["2f746d702f782e736f636b", "/tmp/x.sock"],
  ["612e0a2e", "a.\n=2E"],
  ["2e", "=2E"],
  ["6c696e65200a6e657874090a", "line=20\nnext=09\n"],
  ["63726c660d0a78200d0a", "crlf\r\nx=20\r\n"],
  ["7878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
  ["3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d", "=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=\n=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D"],
  ["61620d", "ab\r"],
  ["610d62", "a\rb"],
];
const B64_VECTORS: Array<[string, string]> = [
  ["", ""],
  ["3b", "Ow==\n"],
  ["450d", "RQ0=\n"],
  ["a5f5e1", "pfXh\n"],
  ["fd8cba0ab3a6f43baa82c68508bdc622b9068daa93fd52c10b26626b1e474b9f74701ddf873e36492d4cde6214fec5d82f5b409a132b1c52", "/Yy6CrOm9DuqgsaFCL3GIrkGjaqT/VLBCyZiax5HS590cB3fhz42SS1M3mIU/sXYL1tAmhMrHFI=\n"],
  ["3f130ba75639ed52365c65b765b83ddea6c8d181e477f70c59545c4db31ee411e107e7e00bacca4b1848fe59c4500202b9d460c2d1aaf552a1", "PxMLp1Y57VI2XGW3Zbg93qbI0YHkd/cMWVRcTbMe5BHhB+fgC6zKSxhI/lnEUAICudRgwtGq9VKh\n"],
  ["c061896c02a7a286ac51fa8c2afb174cdb2ad496da022c4434c08d3adee28329e5bc3112fc996d21848ebd69da8ee9a2cdf23c174a971b43b4c0", "wGGJbAKnooasUfqMKvsXTNsq1JbaAixENMCNOt7igynlvDES/JltIYSOvWnajumizfI8F0qXG0O0\nwA==\n"],
  ["7f8411e3f40d2c29116eedf02994af5e453d5f85ac545372f27280841f71529a20c4e36c32d5f0a01ec476edf66484523da2cf5546f0f0fc89bc32fea853af30bcc23947ff90a9c55ba00ea268ea3f91e9bdb9f66559b8606199967d20d7056b24693c7938923362008819da2c8fa004d4b3", "f4QR4/QNLCkRbu3wKZSvXkU9X4WsVFNy8nKAhB9xUpogxONsMtXwoB7Edu32ZIRSPaLPVUbw8PyJ\nvDL+qFOvMLzCOUf/kKnFW6AOomjqP5Hpvbn2ZVm4YGGZln0g1wVrJGk8eTiSM2IAiBnaLI+gBNSz\n"],
  ["5c06675b72346b3e88a5c4cf0d22d9388a4bdbba0b0d1bdac552bebb44b7bd824853504d4c383f519e31fed3ed071d78d84779027bb67b2ff4c6dbabf3157119e77a135c6523852aa92dad28d89d25e47d4f589cdda636db5417fe3e501d9114ab183461cf56756bdd84e82e7aef0172cb3365d02c93baab7f88a97113cdd5dc234f2b241d628633c3fa816332fde59520f2404822f7df410c5e172639a47a1b7189b257bbd08d52e0e05b01432edc784f853b3ac22f71014e15b52b9ca2e2649f68f7ac40bfb571", "XAZnW3I0az6IpcTPDSLZOIpL27oLDRvaxVK+u0S3vYJIU1BNTDg/UZ4x/tPtBx142Ed5Anu2ey/0\nxtur8xVxGed6E1xlI4UqqS2tKNidJeR9T1ic3aY221QX/j5QHZEUqxg0Yc9WdWvdhOgueu8Bcssz\nZdAsk7qrf4ipcRPN1dwjTyskHWKGM8P6gWMy/eWVIPJASCL330EMXhcmOaR6G3GJsle70I1S4OBb\nAUMu3HhPhTs6wi9xAU4VtSucouJkn2j3rEC/tXE=\n"],
];
const V6_VECTORS: Array<[string, string]> = [
  ["0000000000000001ffff000000010001", "::1:ffff:0:1:1"],
  ["ffff0001ffffffff000082e50001ffff", "ffff:1:ffff:ffff:0:82e5:1:ffff"],
  ["83ce2597ffff000000000001ae180001", "83ce:2597:ffff::1:ae18:1"],
  ["00000000ffff00014492000000010000", "::ffff:1:4492:0:1:0"],
  ["0000000000000001d771000100000000", "::1:d771:1:0:0"],
  ["00000001090400010000ffff68757f44", "0:1:904:1:0:ffff:6875:7f44"],
  ["00009a080000ffffe8eb0000ffffd313", "0:9a08:0:ffff:e8eb:0:ffff:d313"],
  ["00000000000000000000000000000000", "::"],
  ["000000000000ffff0000000100000000", "::ffff:0:1:0:0"],
  ["0000000000001aca000000000000ffff", "::1aca:0:0:0:ffff"],
  ["00000001971d000000000000ffff0000", "0:1:971d::ffff:0"],
  ["0001ffff2fc7ffff0000000000000000", "1:ffff:2fc7:ffff::"],
  ["ffffffffa9e70000752300000000ffff", "ffff:ffff:a9e7:0:7523::ffff"],
  ["00000000000000000001ad820001ffff", "::1:ad82:1:ffff"],
  ["000000000000ffff000059be00010000", "::ffff:0:59be:1:0"],
  ["0000b9c5ffff00003661ffff00010000", "0:b9c5:ffff:0:3661:ffff:1:0"],
  ["815400010001d638ffffe4c8ffff0000", "8154:1:1:d638:ffff:e4c8:ffff:0"],
  ["00000000ffff0000ee86000023170001", "::ffff:0:ee86:0:2317:1"],
  ["0000c9a8302600009378ffff368d0000", "0:c9a8:3026:0:9378:ffff:368d:0"],
  ["ffff00000000000100000000ffff0000", "ffff::1:0:0:ffff:0"],
  ["84e6000100000001c951675a425f0001", "84e6:1:0:1:c951:675a:425f:1"],
  ["ffff00000000f03cffff0000587aaee6", "ffff::f03c:ffff:0:587a:aee6"],
  ["6003000000000000ffff000000000000", "6003::ffff:0:0:0"],
  ["0000ffff0001000000000672d2367d1e", "0:ffff:1::672:d236:7d1e"],
  ["1abc00000000000100000000ac3d0000", "1abc::1:0:0:ac3d:0"],
  ["00004736ffff000000016da100000000", "0:4736:ffff:0:1:6da1::"],
  ["000000000000000000010000ec940000", "::1:0:ec94:0"],
  ["00019ea80000b09e9f80ffffffff0001", "1:9ea8:0:b09e:9f80:ffff:ffff:1"],
  ["0001060b00000000b9ff3fed00010000", "1:60b::b9ff:3fed:1:0"],
  ["00010000ffff000071d40000bbc30000", "1:0:ffff:0:71d4:0:bbc3:0"],
  ["c2dc0001000000000001058cffffffff", "c2dc:1::1:58c:ffff:ffff"],
  ["000008fcffff00000000ffffffff0000", "0:8fc:ffff::ffff:ffff:0"],
  ["00004e7100000000ffff000000000000", "0:4e71:0:0:ffff::"],
  ["0000ae2f54b3ffff0000000000003838", "0:ae2f:54b3:ffff::3838"],
  ["ecb90000ffff00010001000000000001", "ecb9:0:ffff:1:1::1"],
  ["57dbffff000100000000000000000000", "57db:ffff:1::"],
  ["00010000ffff000000000001ffff0001", "1:0:ffff::1:ffff:1"],
  ["00010001ffff0000000000000000b54b", "1:1:ffff::b54b"],
  ["0000b438c8a900010000000000010000", "0:b438:c8a9:1::1:0"],
  ["02014a66bb5000000000ffffce170000", "201:4a66:bb50::ffff:ce17:0"],
  ["00000000000000000000ffff01020304", "::ffff:1.2.3.4"],
  ["00000000000000000000000001020304", "::102:304"],
  ["00000000000000000000000000000000", "::"],
  ["00000000000000000000000000000001", "::1"],
  ["00010000000000000000000000000000", "1::"],
  ["fe800000000000000001000000000001", "fe80::1:0:0:1"],
  ["00010000000000010000000000000001", "1:0:0:1::1"],
  ["00000000000100000000000000000000", "0:0:1::"],
];

describe('magic table', () => {
  it('has one row per magic.h name, unique values for image magics, aliases that agree', () => {
    const names = new Set<string>();
    const values = new Map<number, string>();
    for (const m of MAGICS) {
      expect(names.has(m.name), m.name).toBe(false);
      names.add(m.name);
      if (m.aliasOf) {
        const target = magicByName(m.aliasOf)!;
        expect(target, m.name).toBeDefined();
        expect(m.value).toBe(target.value);
        continue;
      }
      if (m.kind === 'raw' || m.kind === 'version') continue;
      expect(values.has(m.value), `${m.name} vs ${values.get(m.value)}`).toBe(false);
      values.set(m.value, m.name);
    }
    expect(IMG_COMMON).toBe(0x54564319);
    expect(IMG_SERVICE).toBe(0x55105940);
    // a few values checked against crit 4.2's generated magic.py
    expect(magicByName('INVENTORY')!.value).toBe(1479618838);
    expect(magicByName('PSTREE')!.value).toBe(1344745520);
    expect(magicByName('MEMFD_INODE')!.value).toBe(1212495001);
    expect(magicByName('TIMENS')!.value).toBe(1125205043);
    expect(magicByName('PIDNS')!.value).toBe(1628795686);
    expect(magicByName('BPFMAP_DATA')!.value).toBe(1681014835);
    expect(magicByName('APPARMOR')!.value).toBe(1497509959);
    expect(magicByName('PIDFD')!.value).toBe(1413698902);
    expect(magicByName('KDAT')!.value).toBe(1459762264);
    expect(magicByValue(0x56084025)!.name).toBe('PAGEMAP');
    expect(magicByValue(0x59255647)!.name).toBe('SIGNAL');
    expect(magicByValue(0)).toBeUndefined();
    expect(magicByValue(IMG_COMMON)).toBeUndefined();
  });

  it('names a message of the schema for every protobuf kind', () => {
    for (const m of MAGICS) {
      if (m.kind === 'protobuf' || m.kind === 'pagemap' || m.kind === 'ghost') {
        expect(m.message, m.name).toBeDefined();
        expect(hasMessage(m.message!), `${m.name} → ${m.message}`).toBe(true);
      } else expect(m.message, m.name).toBeUndefined();
    }
    for (const extra of ['pagemap_entry', 'ghost_chunk_entry', 'ipc_msg']) expect(hasMessage(extra)).toBe(true);
  });

  it('tells raw images by file name', () => {
    const cases: Array<[string, string | undefined]> = [
      ['checkpoint/pages-1.img', 'PAGES'],
      ['pages-12.img', 'PAGES'],
      ['checkpoint/ifaddr-10.img', 'IFADDR'],
      ['route-10.img', 'ROUTE'],
      ['route6-10.img', 'ROUTE6'],
      ['rule-10.img', 'RULE'],
      ['iptables-10.img', 'IPTABLES'],
      ['ip6tables-10.img', 'IP6TABLES'],
      ['nftables-10.img', 'NFTABLES'],
      ['netns-ct-10.img', 'NETNF_CT'],
      ['netns-exp-10.img', 'NETNF_EXP'],
      ['checkpoint/tmpfs-dev-48.tar.gz.img', 'TMPFS_DEV'],
      ['tmpfs-7.tar.gz.img', 'TMPFS_IMG'],
      ['pagemap-1.img', undefined],
      ['pagemap-shmem-79.img', undefined],
      ['core-1.img', undefined],
      ['pstree.img', undefined],
      ['netns-10.img', undefined],
      ['stats-dump', undefined],
    ];
    for (const [name, kind] of cases) {
      expect(rawImageKind(name)?.name, name).toBe(kind);
      expect(isRawImageName(name), name).toBe(kind !== undefined);
    }
  });

  it('returns raw images without entries, whatever their bytes', () => {
    for (const bytes of [new Uint8Array(0), Uint8Array.of(1, 2, 3), u32le(0xdeadbeef, 5, 6)]) {
      const img = decodeImage('checkpoint/pages-2.img', bytes);
      expect(img).toMatchObject({ magic: 'RAW', kind: 'raw', entries: [], rawKind: 'PAGES' });
    }
    expect(decodeImage('checkpoint/iptables-10.img', new Uint8Array(0)).rawKind).toBe('IPTABLES');
  });
});

describe('schema', () => {
  it('generated files are fresh (node scripts/gen-schema.mjs --check)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-schema.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('keeps the (criu) options visible through protobufjs reflection', () => {
    const root = schemaRoot();
    expect(root.lookupType('vma_entry').fields.start!.options).toEqual({ '(criu).hex': true });
    expect(root.lookupType('vma_entry').fields.prot!.options).toEqual({ '(criu).flags': 'mmap.prot' });
    expect(root.lookupType('ghost_file_entry').fields.rdev!.options).toEqual({ '(criu).dev': true, '(criu).odev': true });
    expect(root.lookupType('unix_sk_entry').fields.name!.options).toEqual({ '(criu).conv': 'unix_name' });
    expect(root.lookupType('inet_sk_entry').fields.src_addr!.options).toEqual({ '(criu).ipadd': true });
    expect(root.lookupType('task_core_entry').fields.task_state!.options).toEqual({ '(criu).dict': 'gen' });
    const opts = root.lookupType('CRIU_Opts');
    expect(Object.fromEntries(opts.fieldsArray.map((f) => [f.name, [f.id, f.type]]))).toEqual({
      hex: [1, 'bool'],
      ipadd: [2, 'bool'],
      flags: [3, 'string'],
      dev: [4, 'bool'],
      odev: [5, 'bool'],
      dict: [6, 'string'],
      conv: [7, 'string'],
    });
    const ext = root.lookup('criu') as protobuf.Field;
    expect([ext.id, ext.extend, ext.type]).toEqual([1018, 'google.protobuf.FieldOptions', 'CRIU_Opts']);
  });

  it('compiles field tables in field-number order with labels and enums', () => {
    const core = messageInfo('core_entry');
    expect(core.fields.map((f) => f.id)).toEqual([...core.fields.map((f) => f.id)].sort((a, b) => a - b));
    const mtype = core.byId.get(1)!;
    expect(mtype).toMatchObject({ name: 'mtype', type: 'enum', required: true, repeated: false });
    expect(mtype.enumValues!.get(1)).toBe('X86_64');
    expect(messageInfo('file_entry').fields.map((f) => f.name)).toContain('pidfd');
    expect(messageInfo('pstree_entry').byId.get(5)).toMatchObject({ name: 'threads', repeated: true, type: 'uint32' });
  });

  it('compiles every message exactly as protobufjs resolves it (names, ids, labels, types, enums, options)', () => {
    const root = schemaRoot();
    const types: protobuf.Type[] = [];
    const walk = (ns: protobuf.NamespaceBase) => {
      for (const n of ns.nestedArray) {
        if (n instanceof protobuf.Type) types.push(n);
        if (n instanceof protobuf.Namespace || n instanceof protobuf.Type) walk(n);
      }
    };
    walk(root);
    const messages = types.filter((t) => !t.fullName.startsWith('.google.'));
    expect(messages.length).toBeGreaterThan(150);
    for (const t of messages) {
      const name = t.fullName.slice(1);
      const info = messageInfo(name);
      expect(info.name).toBe(name);
      const want = [...t.fieldsArray].sort((a, b) => a.id - b.id);
      expect(info.fields.map((f) => f.name), name).toEqual(want.map((f) => f.name));
      for (const [i, f] of want.entries()) {
        f.resolve();
        const got = info.fields[i]!;
        const where = `${name}.${f.name}`;
        expect([got.id, got.repeated, got.required], where).toEqual([f.id, f.repeated, f.required]);
        expect(Object.entries(got.opts).map(([k, v]) => [`(criu).${k}`, v]), where).toEqual(Object.entries(f.options ?? {}).filter(([k]) => k.startsWith('(criu).')));
        const rt = f.resolvedType;
        if (rt instanceof protobuf.Type) expect([got.type, got.message?.name], where).toEqual(['message', rt.fullName.slice(1)]);
        else if (rt instanceof protobuf.Enum) {
          expect(got.type, where).toBe('enum');
          for (const [k, v] of Object.entries(rt.values)) expect(got.enumValues!.has(v) && rt.values[got.enumValues!.get(v)!] === v, `${where} ${k}`).toBe(true);
        } else expect(got.type, where).toBe(f.type);
      }
    }
    expect(hasMessage('pstree_entry')).toBe(true);
    expect(hasMessage('no_such_entry')).toBe(false);
    expect(hasMessage('core_entry.march')).toBe(false); // an enum, not a message
  });
});

describe('framing and payloads', () => {
  it('decodes an image without a head magic (inventory)', () => {
    const inv = cat(u32le(magicByName('INVENTORY')!.value), entry('inventory_entry', { img_version: 2, fdinfo_per_id: true, dump_uptime: '18446744073709551615' }));
    const img = decodeImage('checkpoint/inventory.img', inv);
    expect(img.magic).toBe('INVENTORY');
    expect(img.head).toBeUndefined();
    expect(img.entries).toEqual([{ img_version: 2, fdinfo_per_id: true, dump_uptime: 18446744073709551615n }]);
    expect(stringifyJson(toCritJson(img), false)).toBe('{"magic": "INVENTORY", "entries": [{"img_version": 2, "fdinfo_per_id": true, "dump_uptime": 18446744073709551615}]}');
  });

  it('reads IMG_SERVICE images (stats)', () => {
    const bytes = cat(u32le(IMG_SERVICE, magicByName('STATS')!.value), entry('stats_entry', { dump: { freezing_time: 1, frozen_time: 2, memdump_time: 3, memwrite_time: 4, pages_scanned: 5, pages_skipped_parent: 6, pages_written: 7 } }));
    const img = decodeImage('stats-dump', bytes);
    expect(img).toMatchObject({ magic: 'STATS', head: 'IMG_SERVICE' });
    expect((img.entries[0]!.dump as Record<string, unknown>).pages_written).toBe(7n);
  });

  it('reads the pagemap head, then pagemap entries', () => {
    const bytes = image(
      'PAGEMAP',
      entry('pagemap_head', { pages_id: 3 }),
      entry('pagemap_entry', { vaddr: 0x400000, compat_nr_pages: 0, nr_pages: 2, flags: 4 }),
      entry('pagemap_entry', { vaddr: '140737488347136', compat_nr_pages: 0, nr_pages: 1, flags: 3 | 8 }),
    );
    const img = decodeImage('checkpoint/pagemap-1.img', bytes);
    expect(img.messages).toEqual(['pagemap_head', 'pagemap_entry', 'pagemap_entry']);
    expect(img.entries[0]).toEqual({ pages_id: 3 });
    expect(img.entries[1]).toEqual({ vaddr: 0x400000n, compat_nr_pages: 0, nr_pages: 2n, flags: 4 });
    expect(toCritJson(img).entries).toEqual([
      { pages_id: 3 },
      { vaddr: '0x400000', compat_nr_pages: 0, flags: 'PE_PRESENT', nr_pages: 2n },
      { vaddr: '0x7fffffffe000', compat_nr_pages: 0, flags: 'PE_PARENT | PE_LAZY | 0x8', nr_pages: 1n },
    ]);
    // a pagemap with only its head
    expect(decodeImage('pagemap-9.img', image('PAGEMAP', entry('pagemap_head', { pages_id: 1 }))).entries).toHaveLength(1);
  });

  it('gives typed entries by magic', () => {
    const tree = entriesOf(decodeImage('pstree.img', image('PSTREE', good())), 'PSTREE');
    expect(tree[0]!.threads).toEqual([1]);
    const pm = pagemapOf(decodeImage('pagemap-1.img', image('PAGEMAP', entry('pagemap_head', { pages_id: 3 }), entry('pagemap_entry', { vaddr: 4096, compat_nr_pages: 0, nr_pages: 1 }))));
    expect(pm.head.pages_id).toBe(3);
    expect(pm.entries.map((e) => e.vaddr)).toEqual([4096n]);
    expectCkptError(() => entriesOf(decodeImage('pstree.img', image('PSTREE', good())), 'CORE'), 'pstree.img', 0, /expected a CORE image, found PSTREE/);
  });

  it('reads pipe, fifo, socket-queue and BPF map payloads', () => {
    const data = bytesOf('hello, pipe');
    const pipes = decodeImage('pipes-data.img', image('PIPES_DATA', entry('pipe_data_entry', { pipe_id: 7, bytes: data.length }), data, entry('pipe_data_entry', { pipe_id: 8, bytes: 0 })));
    expect(pipes.entries.map((e) => e.extra)).toEqual([data, new Uint8Array(0)]);
    expect(toCritJson(pipes).entries[0]).toEqual({ pipe_id: 7, bytes: 11, extra: 'aGVsbG8sIHBpcGU=\n' });
    expect(toCritJson(pipes).entries[1]).toEqual({ pipe_id: 8, bytes: 0, extra: '' });

    const fifo = decodeImage('fifo-data.img', image('FIFO_DATA', entry('pipe_data_entry', { pipe_id: 1, bytes: 3, size: 65536 }), bytesOf('abc')));
    expect(fifo.entries[0]!.extra).toEqual(bytesOf('abc'));

    const skq = decodeImage('sk-queues.img', image('SK_QUEUES', entry('sk_packet_entry', { id_for: 5, length: 4 }), bytesOf('ping'), entry('sk_packet_entry', { id_for: 5, length: 2, scm: [{ type: 1, rights: [3, 4] }] }), bytesOf('ok')));
    expect(skq.entries.map((e) => e.extra)).toEqual([bytesOf('ping'), bytesOf('ok')]);
    expect(skq.entries[1]!.scm).toEqual([{ type: 1, rights: [3, 4] }]);

    const bpf = decodeImage('bpfmap-data.img', image('BPFMAP_DATA', entry('bpfmap_data_entry', { map_id: 1, keys_bytes: 4, values_bytes: 8, count: 1 }), new Uint8Array(12).fill(7)));
    expect(bpf.entries[0]!.extra).toEqual(new Uint8Array(12).fill(7));
  });

  it('reads the in-queue, then the out-queue of a tcp-stream', () => {
    const img = decodeImage(
      'tcp-stream-1.img',
      image('TCP_STREAM', entry('tcp_stream_entry', { inq_len: 2, inq_seq: 1, outq_len: 3, outq_seq: 2, opt_mask: 15, snd_wscale: 7, mss_clamp: 65495 }), bytesOf('in'), bytesOf('out')),
    );
    const extra = img.entries[0]!.extra as TcpQueues;
    expect(extra.inq).toEqual(bytesOf('in'));
    expect(extra.outq).toEqual(bytesOf('out'));
    const j = toCritJson(img).entries[0] as Record<string, unknown>;
    expect(j.opt_mask).toBe('0xf');
    expect(j.extra).toEqual({ inq: 'aW4=\n', outq: 'b3V0\n' });
  });

  it('reads SysV semaphores (u16 padded to 8), messages (padded to 8) and shared memory (padded to 4 or in pagemaps)', () => {
    const desc = { key: 1, uid: 0, gid: 0, cuid: 0, cgid: 0, mode: 0o600, id: 0 };
    const sem = decodeImage(
      'ipcns-sem-9.img',
      image('IPCNS_SEM', entry('ipc_sem_entry', { desc, nsems: 3 }), Uint8Array.of(7, 0, 0, 0, 255, 255, 0, 0), entry('ipc_sem_entry', { desc: { ...desc, id: 1 }, nsems: 4 }), Uint8Array.of(1, 0, 2, 0, 3, 0, 4, 0)),
    );
    expect(sem.entries.map((e) => e.extra)).toEqual([
      [7, 0, 65535],
      [1, 2, 3, 4],
    ]);

    const msgs = decodeImage(
      'ipcns-msg-9.img',
      image(
        'IPCNS_MSG',
        entry('ipc_msg_entry', { desc, qbytes: 16384, qnum: 2 }),
        entry('ipc_msg', { mtype: 1, msize: 5 }),
        bytesOf('hello'),
        new Uint8Array(3),
        entry('ipc_msg', { mtype: 2, msize: 8 }),
        bytesOf('12345678'),
        entry('ipc_msg_entry', { desc, qbytes: 16384, qnum: 0 }),
      ),
    );
    const q = msgs.entries[0]!.extra as IpcQueuedMessage[];
    expect(q.map((m) => [m.msg, m.data])).toEqual([
      [{ mtype: 1n, msize: 5 }, bytesOf('hello')],
      [{ mtype: 2n, msize: 8 }, bytesOf('12345678')],
    ]);
    expect(msgs.entries[1]!.extra).toEqual([]);
    expect((toCritJson(msgs).entries[0] as Record<string, unknown>).extra).toEqual([{ mtype: 1n, msize: 5 }, 'aGVsbG8=\n', { mtype: 2n, msize: 8 }, 'MTIzNDU2Nzg=\n']);

    const shmPaged = decodeImage('ipcns-shm-9.img', image('IPCNS_SHM', entry('ipc_shm_entry', { desc, size: 8192, in_pagemaps: true }), entry('ipc_shm_entry', { desc, size: 4096, in_pagemaps: true })));
    expect(shmPaged.entries).toHaveLength(2);
    expect(shmPaged.entries[0]!.extra).toBeUndefined();
    const shmInline = decodeImage('ipcns-shm-9.img', image('IPCNS_SHM', entry('ipc_shm_entry', { desc, size: 5 }), bytesOf('SHM!!'), new Uint8Array(3), entry('ipc_shm_entry', { desc, size: 0 })));
    expect(shmInline.entries.map((e) => e.extra)).toEqual([bytesOf('SHM!!'), new Uint8Array(0)]);
  });

  it('reads plain and chunked ghost files', () => {
    const plain = decodeImage('ghost-file-1.img', image('GHOST_FILE', entry('ghost_file_entry', { uid: 0, gid: 0, mode: 0o100644, size: 6 }), bytesOf('ghost!')));
    expect(plain.entries).toHaveLength(1);
    expect(plain.entries[0]!.extra).toEqual(bytesOf('ghost!'));
    expect(toCritJson(plain).entries[0]).toEqual({ uid: 0, gid: 0, mode: 0o100644, size: 6n, extra: 'Z2hvc3Qh\n' });

    const chunked = decodeImage(
      'ghost-file-2.img',
      image('GHOST_FILE', entry('ghost_file_entry', { uid: 0, gid: 0, mode: 0o100600, chunks: true, size: 8192 }), entry('ghost_chunk_entry', { len: 2, off: 0 }), bytesOf('ab'), entry('ghost_chunk_entry', { len: 3, off: 4096 }), bytesOf('cde')),
    );
    expect(chunked.messages).toEqual(['ghost_file_entry', 'ghost_chunk_entry', 'ghost_chunk_entry']);
    expect(chunked.entries[0]!.extra).toBeUndefined();
    expect(chunked.entries.slice(1).map((e) => e.extra)).toEqual([bytesOf('ab'), bytesOf('cde')]);
  });

  it('keeps 64-bit integers exact and signed types signed', () => {
    const rl = decodeImage('rlimit-1.img', image('RLIMIT', entry('rlimit_entry', { cur: '18446744073709551615', max: '9223372036854775809' })));
    expect(rl.entries[0]).toEqual({ cur: 18446744073709551615n, max: 9223372036854775809n });
    expect(stringifyJson(toCritJson(rl), false)).toBe('{"magic": "RLIMIT", "entries": [{"cur": 18446744073709551615, "max": 9223372036854775809}]}');
    const vma = { start: 0x1000, end: 0x2000, pgoff: 0, shmid: 0, prot: 3, flags: 0x22, status: 0x201, fd: -1 };
    const mm = decodeImage('mm-1.img', image('MM', entry('mm_entry', { mm_start_code: 1, mm_end_code: 2, mm_start_data: 3, mm_end_data: 4, mm_start_stack: 5, mm_start_brk: 6, mm_brk: 7, mm_arg_start: 8, mm_arg_end: 9, mm_env_start: 10, mm_env_end: 11, exe_file_id: 12, vmas: [vma] })));
    const v = (mm.entries[0]!.vmas as Record<string, unknown>[])[0]!;
    expect(v.fd).toBe(-1n);
    const j = (toCritJson(mm).entries[0] as { vmas: Record<string, unknown>[] }).vmas[0];
    expect(j).toEqual({ start: '0x1000', end: '0x2000', pgoff: 0n, shmid: 0n, prot: 'PROT_READ | PROT_WRITE', flags: 'MAP_PRIVATE | MAP_ANON', status: 'VMA_AREA_REGULAR | VMA_ANON_PRIVATE', fd: -1n });
    const plain = (toCritJson(mm, { pretty: false }).entries[0] as { vmas: Record<string, unknown>[] }).vmas[0];
    expect(plain).toMatchObject({ start: 0x1000n, prot: 3, flags: 0x22, status: 0x201 });
  });

  it('skips unknown fields, accepts packed repeated scalars, merges a repeated singular message', () => {
    // pstree_entry: pid=1 ppid=0 pgid=1 sid=1, unknown field 99 (varint), threads packed [1, 2, 300]
    const msg = Uint8Array.of(0x08, 1, 0x10, 0, 0x18, 1, 0x20, 1, 0x98, 0x06, 5, 0x2a, 4, 1, 2, 0xac, 0x02, 0x28, 7);
    const img = decodeImage('pstree.img', image('PSTREE', cat(u32le(msg.length), msg)));
    expect(img.entries[0]).toEqual({ pid: 1, ppid: 0, pgid: 1, sid: 1, threads: [1, 2, 300, 7] });
    // stats_entry.dump twice: fields merge, later values win
    const a = pb('dump_stats_entry', { freezing_time: 1, frozen_time: 2, memdump_time: 3, memwrite_time: 4, pages_scanned: 5, pages_skipped_parent: 6, pages_written: 7 });
    const b = pb('dump_stats_entry', { freezing_time: 9, frozen_time: 2, memdump_time: 3, memwrite_time: 4, pages_scanned: 5, pages_skipped_parent: 6, pages_written: 7, irmap_resolve: 11 });
    const stats = cat(Uint8Array.of(0x0a, a.length), a, Uint8Array.of(0x0a, b.length), b);
    const s = decodeImage('stats-dump', cat(u32le(IMG_SERVICE, magicByName('STATS')!.value, stats.length), stats));
    expect(s.entries[0]!.dump).toMatchObject({ freezing_time: 9, irmap_resolve: 11 });
  });

  it('keeps enum values outside the schema as numbers, and leaves them out of crit JSON as crit does', () => {
    const f = decodeImage('files.img', image('FILES', entry('file_entry', { type: 1, id: 1 })));
    expect(f.entries[0]).toEqual({ type: 1, id: 1 });
    // type = 77: not a fd_types value
    const raw = Uint8Array.of(0x08, 77, 0x10, 2);
    const g = decodeImage('files.img', image('FILES', cat(u32le(raw.length), raw)));
    expect(g.entries[0]).toEqual({ type: 77, id: 2 });
    expect(toCritJson(g).entries[0]).toEqual({ id: 2 });
  });
});

describe('crit conversions', () => {
  it('the JSON text of a big image comes in pieces of about 64 KiB, together the same text', () => {
    // an image of 200,000 entries (a fuzzer's 16 MiB image can hold 1.4 million): never one string
    const value = { magic: 'PAGEMAP', entries: Array.from({ length: 200_000 }, (_, i) => ({ vaddr: BigInt(i) << 12n, nr_pages: 1, flags: 'PE_PRESENT' })) };
    for (const pretty of [false, true]) {
      const pieces = [...critJsonChunks(value, pretty)];
      expect(pieces.length).toBeGreaterThan(50);
      for (const p of pieces) expect(p.length).toBeLessThan((1 << 16) + 200);
      const text = pieces.join('');
      expect(text).toBe(stringifyJson(value, pretty));
      expect(text.startsWith(pretty ? '{\n    "magic": "PAGEMAP",\n    "entries": [\n        {\n            "vaddr": 0,' : '{"magic": "PAGEMAP", "entries": [{"vaddr": 0, "nr_pages": 1')).toBe(true);
      expect(JSON.parse(text).entries[199_999]).toEqual({ vaddr: 199_999 * 4096, nr_pages: 1, flags: 'PE_PRESENT' });
    }
  });

  it("quoted-printable unix names as Python's quopri", () => {
    for (const [hex, want] of QP_VECTORS) expect(quotedPrintable(hexBytes(hex)), hex).toBe(want);
  });

  it("base64 with line breaks as Python's base64.encodebytes", () => {
    for (const [hex, want] of B64_VECTORS) expect(base64Lines(hexBytes(hex)), hex).toBe(want);
  });

  it('IPv4 and IPv6 addresses as Python 3.14 ipaddress prints them', () => {
    const words = (b: Uint8Array) => Array.from({ length: b.length / 4 }, (_, i) => new DataView(b.buffer, b.byteOffset).getUint32(i * 4, true));
    for (const [hex, want] of V6_VECTORS) {
      const img: CriuImage = { file: 'x', magic: 'NETDEV', kind: 'protobuf', entries: [{ local: words(hexBytes(hex)) }], messages: ['sit_entry'] };
      expect(toCritJson(img).entries[0], hex).toEqual({ local: [want] });
    }
    const v4: CriuImage = { file: 'x', magic: 'NETDEV', kind: 'protobuf', entries: [{ local: words(Uint8Array.of(10, 0, 2, 15)), remote: [] }], messages: ['sit_entry'] };
    expect(toCritJson(v4).entries[0]).toEqual({ local: ['10.0.2.15'] });
    expect(toCritJson(v4, { pretty: false }).entries[0]).toEqual({ local: [0x0f02000a] });
  });

  it('dev and odev as major:minor, flags with a remainder, hex inherited by nested messages', () => {
    const ghost = decodeImage('ghost-file-3.img', image('GHOST_FILE', entry('ghost_file_entry', { uid: 0, gid: 0, mode: 0o20666, dev: (259 << 20) | 3, rdev: 0x05 | (136 << 8) | (0x12 << 20) }), new Uint8Array(0)));
    expect(toCritJson(ghost).entries[0]).toMatchObject({ dev: '259:3', rdev: '136:' + (5 | (0x12 << 8)) });
    const rf = decodeImage('reg-files.img', image('REG_FILES', entry('reg_file_entry', { id: 1, flags: 0o2 | 0o100000 | 0o2000000 | 0o10000000, pos: 0, fown: FOWN, name: '/x' })));
    expect((toCritJson(rf).entries[0] as Record<string, unknown>).flags).toBe('O_RDWR | O_LARGEFILE | O_CLOEXEC | 0x200000');
    const zero = decodeImage('reg-files.img', image('REG_FILES', entry('reg_file_entry', { id: 1, flags: 0, pos: 0, fown: FOWN, name: '/x' })));
    expect((toCritJson(zero).entries[0] as Record<string, unknown>).flags).toBe('');
    const arm: CriuImage = {
      file: 'x',
      magic: 'CORE',
      kind: 'protobuf',
      entries: [{ clear_tid_addr: 16n, tls: 17n, gpregs: { regs: [1n, 255n], sp: 4096n, pc: 0n, pstate: 0x80000000n } }],
      messages: ['thread_info_aarch64'],
    };
    expect(toCritJson(arm).entries[0]).toEqual({ clear_tid_addr: '0x10', tls: 17n, gpregs: { regs: ['0x1', '0xff'], sp: '0x1000', pc: '0x0', pstate: '0x80000000' } });
  });

  it('names task states as CRIU means them (crit 4.2 swaps 3 and 6 when asked)', () => {
    const core = (state: number) => image('CORE', entry('core_entry', { mtype: 1, tc: { task_state: state, exit_code: 0, personality: 0, flags: 0, blk_sigset: 0, comm: 'x' } }));
    const names = (opts: { critTaskStateNames?: boolean }) => [1, 2, 3, 6, 9].map((s) => ((toCritJson(decodeImage('core-1.img', core(s)), opts).entries[0] as { tc: { task_state: unknown } }).tc.task_state));
    expect(names({})).toEqual(['Alive', 2, 'Stopped', 'Zombie', 9]);
    expect(names({ critTaskStateNames: true })).toEqual(['Alive', 2, 'Zombie', 'Stopped', 9]);
  });

  it('socket dictionaries and unix names', () => {
    const usk = decodeImage(
      'files.img',
      image('FILES', entry('file_entry', { type: 5, id: 3, usk: { id: 3, ino: 99, type: 1, state: 10, flags: 2, uflags: 0, backlog: 5, peer: 0, fown: FOWN, opts: { so_sndbuf: 1, so_rcvbuf: 2, so_snd_tmo_sec: 0, so_snd_tmo_usec: 0, so_rcv_tmo_sec: 0, so_rcv_tmo_usec: 0 }, name: Uint8Array.of(0, 0x61, 0x3d) } })),
    );
    const j = toCritJson(usk).entries[0] as { type: string; usk: Record<string, unknown> };
    expect(j.type).toBe('UNIXSK');
    expect(j.usk).toMatchObject({ type: 'STREAM', state: 'LISTEN', flags: '0x2', name: '=00a=3D' });
    expect(stringifyJson(j.usk.name, false)).toBe('"=00a=3D"');
  });

  it("prints JSON as Python's json.dumps does", () => {
    const v = { a: [], b: {}, c: [1, { d: 'é"\\\n\u0001\u007f😀' }], e: 18446744073709551615n, f: true, g: null, h: -1 };
    expect(stringifyJson(v, false)).toBe('{"a": [], "b": {}, "c": [1, {"d": "\\u00e9\\"\\\\\\n\\u0001\\u007f\\ud83d\\ude00"}], "e": 18446744073709551615, "f": true, "g": null, "h": -1}');
    expect(stringifyJson(v, true)).toBe(
      ['{', '    "a": [],', '    "b": {},', '    "c": [', '        1,', '        {', '            "d": "\\u00e9\\"\\\\\\n\\u0001\\u007f\\ud83d\\ude00"', '        }', '    ],', '    "e": 18446744073709551615,', '    "f": true,', '    "g": null,', '    "h": -1', '}'].join('\n'),
    );
    expect(stringifyJson(Uint8Array.of(1, 2, 3), false)).toBe('"AQID"');
  });
});

describe('malformed input', () => {
  const PSTREE = magicByName('PSTREE')!.value;
  const good = entry('pstree_entry', { pid: 1, ppid: 0, pgid: 1, sid: 1, threads: [1] });

  it('empty and too-short files', () => {
    expectCkptError(() => decodeImage('checkpoint/pstree.img', new Uint8Array(0)), 'checkpoint/pstree.img', 0, /empty/);
    expectCkptError(() => decodeImage('checkpoint/pstree.img', Uint8Array.of(1, 2)), 'checkpoint/pstree.img', 0, /truncated magic/);
    expectCkptError(() => decodeImage('checkpoint/pstree.img', cat(u32le(IMG_COMMON), Uint8Array.of(1))), 'checkpoint/pstree.img', 4, /truncated magic/);
  });

  it('wrong magic', () => {
    const e = expectCkptError(() => decodeImage('checkpoint/core-1.img', u32le(0xdeadbeef, 0)), 'checkpoint/core-1.img', 0, /unknown magic 0xdeadbeef/);
    expect(e.message).toBe('checkpoint/core-1.img at byte 0: unknown magic 0xdeadbeef: not a CRIU image');
    expectCkptError(() => decodeImage('checkpoint/core-1.img', u32le(IMG_COMMON, 0x12345678)), 'checkpoint/core-1.img', 4, /unknown magic 0x12345678/);
    expectCkptError(() => decodeImage('criu.kdat', u32le(magicByName('KDAT')!.value, 0)), 'criu.kdat', 0, /KDAT/);
  });

  it('truncated entry size', () => {
    const bytes = cat(u32le(IMG_COMMON, PSTREE), good, Uint8Array.of(5, 0));
    expectCkptError(() => decodeImage('checkpoint/pstree.img', bytes), 'checkpoint/pstree.img', 8 + good.length, /truncated entry size/);
  });

  it('entry size past the end of the file', () => {
    const bytes = cat(u32le(IMG_COMMON, PSTREE), good, u32le(1000), Uint8Array.of(8, 1));
    expectCkptError(() => decodeImage('checkpoint/pstree.img', bytes), 'checkpoint/pstree.img', 8 + good.length, /entry size 1000 runs past the end/);
    // a huge size must not be trusted for an allocation
    expectCkptError(() => decodeImage('checkpoint/pstree.img', cat(u32le(IMG_COMMON, PSTREE, 0xffffffff))), 'checkpoint/pstree.img', 8, /entry size 4294967295/);
  });

  it('corrupt protobuf', () => {
    // truncated varint at the message's second byte
    const trunc = cat(u32le(IMG_COMMON, PSTREE, 2), Uint8Array.of(0x08, 0x80));
    expectCkptError(() => decodeImage('checkpoint/pstree.img', trunc), 'checkpoint/pstree.img', 13, /truncated varint/);
    // wire type 7
    const wt = cat(u32le(IMG_COMMON, PSTREE, 2), Uint8Array.of(0x0f, 0));
    expectCkptError(() => decodeImage('checkpoint/pstree.img', wt), 'checkpoint/pstree.img', 13, /invalid wire type 7/);
    // length-delimited field longer than the entry
    const len = cat(u32le(IMG_COMMON, PSTREE, 3), Uint8Array.of(0x2a, 10, 1));
    expectCkptError(() => decodeImage('checkpoint/pstree.img', len), 'checkpoint/pstree.img', 14, /needs 10 bytes/);
    // missing required field (sid), reported at the message start
    const req = Uint8Array.of(0x08, 1, 0x10, 0, 0x18, 1); // pid, ppid, pgid; no sid
    expectCkptError(() => decodeImage('checkpoint/pstree.img', cat(u32le(IMG_COMMON, PSTREE, req.length), req)), 'checkpoint/pstree.img', 12, /pstree_entry lacks required field sid/);
    // nested message with a missing required field
    const fown = Uint8Array.of(0x08, 0);
    const nested = cat(Uint8Array.of(0x08, 1, 0x10, 1, 0x1a, 2 + fown.length + 2), Uint8Array.of(0x08, 1, 0x2a, fown.length), fown);
    expectCkptError(() => decodeImage('files.img', image('FILES', cat(u32le(nested.length), nested))), 'files.img', 22, /fown_entry lacks required field euid/);
    // varint too long
    const long = cat(u32le(IMG_COMMON, PSTREE, 12), Uint8Array.of(0x08, ...new Array(11).fill(0xff)));
    expectCkptError(() => decodeImage('checkpoint/pstree.img', long), 'checkpoint/pstree.img', 13, /varint/);
  });

  it('payload past the end of the file', () => {
    const pipes = image('PIPES_DATA', entry('pipe_data_entry', { pipe_id: 1, bytes: 100 }), bytesOf('short'));
    const off = pipes.length - 5;
    expectCkptError(() => decodeImage('pipes-data.img', pipes), 'pipes-data.img', off, /pipe data of 100 bytes runs past the end/);
    const tcp = image('TCP_STREAM', entry('tcp_stream_entry', { inq_len: 1, inq_seq: 1, outq_len: 5, outq_seq: 2, opt_mask: 0, snd_wscale: 0, mss_clamp: 0 }), bytesOf('ab'));
    expectCkptError(() => decodeImage('tcp-stream-1.img', tcp), 'tcp-stream-1.img', tcp.length - 1, /TCP out-queue/);
    const shm = image('IPCNS_SHM', entry('ipc_shm_entry', { desc: { key: 1, uid: 0, gid: 0, cuid: 0, cgid: 0, mode: 0, id: 0 }, size: '1099511627776' }));
    expectCkptError(() => decodeImage('ipcns-shm-1.img', shm), 'ipcns-shm-1.img', shm.length, /shared memory contents of 1099511627776 bytes/);
    const ghost = image('GHOST_FILE', entry('ghost_file_entry', { uid: 0, gid: 0, mode: 0, chunks: true }), entry('ghost_chunk_entry', { len: 10, off: 0 }));
    expectCkptError(() => decodeImage('ghost-file-1.img', ghost), 'ghost-file-1.img', ghost.length, /ghost file chunk/);
    expectCkptError(() => decodeImage('ghost-file-1.img', image('GHOST_FILE')), 'ghost-file-1.img', 8, /missing ghost_file_entry/);
  });

  it('only ever throws CkptError, for random bytes (fast-check)', () => {
    const magics = MAGICS.filter((m) => m.message).map((m) => m.value);
    fc.assert(
      fc.property(fc.boolean(), fc.constantFrom(...magics), fc.uint8Array({ maxLength: 300 }), (withMagic, magic, body) => {
        const bytes = withMagic ? cat(u32le(IMG_COMMON, magic), body) : body;
        try {
          const img = decodeImage('checkpoint/x.img', bytes);
          // whatever decodes must also print
          stringifyJson(toCritJson(img), true);
        } catch (e) {
          if (!(e instanceof CkptError)) throw e;
          expect(e.file).toBe('checkpoint/x.img');
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('only ever throws CkptError, for mutated and truncated valid images (fast-check)', () => {
    const desc = { key: 1, uid: 0, gid: 0, cuid: 0, cgid: 0, mode: 0o600, id: 0 };
    const seeds = [
      image('PSTREE', good, entry('pstree_entry', { pid: 2, ppid: 1, pgid: 1, sid: 1, threads: [2, 3] })),
      image('PAGEMAP', entry('pagemap_head', { pages_id: 3 }), entry('pagemap_entry', { vaddr: 0x400000, compat_nr_pages: 0, nr_pages: 2, flags: 4 })),
      image('IPCNS_MSG', entry('ipc_msg_entry', { desc, qbytes: 16384, qnum: 1 }), entry('ipc_msg', { mtype: 1, msize: 5 }), bytesOf('hello'), new Uint8Array(3)),
      image('IPCNS_SEM', entry('ipc_sem_entry', { desc, nsems: 3 }), new Uint8Array(8)),
      image('TCP_STREAM', entry('tcp_stream_entry', { inq_len: 2, inq_seq: 1, outq_len: 3, outq_seq: 2, opt_mask: 15, snd_wscale: 7, mss_clamp: 65495 }), bytesOf('inout')),
      image('GHOST_FILE', entry('ghost_file_entry', { uid: 0, gid: 0, mode: 0, chunks: true }), entry('ghost_chunk_entry', { len: 2, off: 0 }), bytesOf('ab')),
      image('FILES', entry('file_entry', { type: 1, id: 1, reg: { id: 1, flags: 2, pos: 0, fown: FOWN, name: '/etc/passwd' } })),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (seed, edits, cut) => {
          const bytes = seed.slice(0, 8 + (cut % (seed.length - 7)));
          for (const [at, v] of edits) if (bytes.length > 8) bytes[8 + (at % (bytes.length - 8))] = v;
          try {
            stringifyJson(toCritJson(decodeImage('checkpoint/y.img', bytes)), false);
          } catch (e) {
            if (!(e instanceof CkptError)) throw e;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
