import importlib, pkgutil, json, sys
import pycriu.images as P
from google.protobuf import descriptor_pb2
from google.protobuf.json_format import MessageToDict
out = {}
import os
d = os.path.dirname(P.__file__)
sys.path.insert(0, d)
for f in sorted(os.listdir(d)):
    if f.endswith('_pb2.py'):
        m = importlib.import_module(f[:-3])
        fdp = descriptor_pb2.FileDescriptorProto()
        m.DESCRIPTOR.CopyToProto(fdp)
        out[fdp.name] = MessageToDict(fdp, preserving_proto_field_name=True)
        # options extensions
json.dump(out, open('/work/ck/desc.json','w'), indent=1)
import google.protobuf
print(google.protobuf.__version__)
from google.protobuf.internal import api_implementation
print(api_implementation.Type())
