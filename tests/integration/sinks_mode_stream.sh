#!/usr/bin/env bash
# sinks_mode_stream.sh — sinks.sh with the sinks as streaming hooks
# (docs/HOOKS.md, "Streaming hooks"; docs/SINKS.md): the same checks,
# batches of many, a poison entry among them, and a batch given again.
MODE=stream exec bash "$(dirname "$0")/sinks.sh" "$@"
