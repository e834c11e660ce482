"""A protoc plugin that runs grpcio-tools' grpc_python generator for buf.

buf cannot call grpc_python as a protoc builtin, and grpcio-tools ships no plugin binary, so
this reads the CodeGeneratorRequest, hands the files to grpc_tools.protoc through a
descriptor set, and returns what it wrote as the CodeGeneratorResponse.
"""

import os
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    response = plugin_pb2.CodeGeneratorResponse()
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    with tempfile.TemporaryDirectory() as tmp:
        descriptors = descriptor_pb2.FileDescriptorSet()
        descriptors.file.extend(request.proto_file)
        descriptor_path = os.path.join(tmp, "descriptors.binpb")
        with open(descriptor_path, "wb") as f:
            f.write(descriptors.SerializeToString())
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        code = protoc.main(
            [
                "protoc",
                f"--descriptor_set_in={descriptor_path}",
                f"--grpc_python_out={out}",
                *request.file_to_generate,
            ]
        )
        if code != 0:
            response.error = f"grpc_python generator failed with exit code {code}"
        else:
            for directory, _, files in os.walk(out):
                for name in sorted(files):
                    path = os.path.join(directory, name)
                    generated = response.file.add()
                    generated.name = os.path.relpath(path, out)
                    with open(path, encoding="utf-8") as f:
                        generated.content = f.read()
    sys.stdout.buffer.write(response.SerializeToString())


if __name__ == "__main__":
    main()
