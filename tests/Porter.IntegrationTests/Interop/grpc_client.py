"""A real gRPC implementation (Debian's python3-grpcio) talking to net-porter-server over its unix socket.

Messages are built from the .proto's descriptor set at run time, so this works with any protoc version.
Prints one JSON object per call: {"call", "code", "details", "response"}.
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

descriptor_path, socket_path, netns_path = sys.argv[1], sys.argv[2], sys.argv[3]

pool = descriptor_pool.DescriptorPool()
for proto in descriptor_pb2.FileDescriptorSet.FromString(open(descriptor_path, "rb").read()).file:
    pool.Add(proto)
factory = message_factory.MessageFactory(pool)


def message(name):
    return factory.GetPrototype(pool.FindMessageTypeByName("netporter.v1." + name))


channel = grpc.insecure_channel("unix://" + socket_path)


def call(label, method, request_type, response_type, **fields):
    stub = channel.unary_unary(
        "/netporter.v1.Porter/" + method,
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=message(response_type).FromString,
    )
    outcome = {"call": label}
    try:
        response = stub(message(request_type)(**fields), timeout=30)
        outcome.update(code="OK", details="", response=json_format.MessageToDict(response, preserving_proto_field_name=True))
    except grpc.RpcError as error:
        outcome.update(code=error.code().name, details=error.details(), response=None)
    print(json.dumps(outcome), flush=True)


call("info", "Info", "InfoRequest", "InfoResponse")
call("unknown-method", "NoSuchMethod", "InfoRequest", "InfoResponse")
call("bad-container-id", "Setup", "SetupRequest", "SetupResponse",
     resource="mv-hl", netns_path=netns_path, container_id="abc;rm -rf /", interface_name="eth0")
call("unknown-resource", "Setup", "SetupRequest", "SetupResponse",
     resource="nope", netns_path=netns_path, container_id="abc", interface_name="eth0")
call("missing-netns", "Setup", "SetupRequest", "SetupResponse",
     resource="mv-hl", netns_path="/nonexistent/netns", container_id="abc", interface_name="eth0")
call("teardown-nothing", "Teardown", "TeardownRequest", "TeardownResponse",
     resource="mv-hl", netns_path=netns_path, container_id="never-attached", interface_name="eth0")
