"""pyppx: an independent checker of ppx evidence, written from
docs/PROTOCOL.md, docs/EVIDENCE.md and RFC 9162 alone (no C source).

The protobuf classes come from proto/ppx.proto through protoc
(`make` writes $(BUILD)/py/ppx_pb2.py); set PPX_PY to that directory.
"""
