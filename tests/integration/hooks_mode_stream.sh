#!/usr/bin/env bash
# hooks_mode_stream.sh — hooks.sh with its durable hook in `mode = stream`
# (docs/HOOKS.md, "Streaming hooks"): the same checks, one sink process.
MODE=stream exec bash "$(dirname "$0")/hooks.sh" "$@"
