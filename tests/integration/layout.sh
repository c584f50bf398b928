#!/usr/bin/env bash
# layout.sh — the build's shape, checked on the built objects rather than
# taken on trust: what both programs know lives in libppx, ppx is built out
# of libppx and never out of the daemon, and libppx exports only names that
# say whose they are.
#
#   - no file of client/ or tools/ includes a daemon header, and lib/
#     includes nothing from daemon/ or client/;
#   - the ppx binary defines none of the functions of the daemon's own
#     objects (libppxd.a): the link pulled in no daemon object;
#   - every symbol libppx.a exports is public (ppx_), internal to the
#     library (ppxi_) or protobuf-c's generated code (ppx__v1__);
#   - the public headers in include/ppx/ include only C's own headers,
#     <sys/...>, other ppx headers and protobuf-c's (whose generated
#     Ppx__V1__ types are ppx's own): a program using libppx needs no
#     OpenSSL or json-c headers (read off the #include lines, and seen
#     by the compiler compiling each header alone).  The one exception is
#     the bridge for programs that already use json-c, include/ppx/json-c.h.
set -u
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1

hits=$(grep -nE '#include +"[^"]*\.\./daemon/' client/*.[ch] tools/*/*.[ch] 2>/dev/null)
daemon_headers=$(cd daemon && ls ./*.h | sed 's|^\./||')
for h in $daemon_headers; do
	hits+=$(grep -nE "#include +\"$h\"" client/*.[ch] tools/*/*.[ch] 2>/dev/null)
done
[ -z "$hits" ] || diag "$hits"
check "client/ and tools/ include no daemon header" [ -z "$hits" ]

hits=$(grep -nE '#include +"[^"]*\.\./(daemon|client)/' lib/*.[ch] include/ppx/*.h)
[ -z "$hits" ] || diag "$hits"
check "lib/ and include/ppx/ include nothing of daemon/ or client/" [ -z "$hits" ]

defined() {	# defined FILE...: the global functions and data they define
	nm --defined-only "$@" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDRB]$/ { print $3 }' | sort -u
}
[ -f "$BUILD/libppxd.a" ] && [ -x "$PPX" ] || notok "ppx and libppxd.a are built (make)"
daemon_syms=$(defined "$BUILD/libppxd.a")
both=$(comm -12 <(defined "$PPX") <(printf '%s\n' "$daemon_syms"))
diag "libppxd.a defines $(grep -c . <<<"$daemon_syms") symbols; ppx defines $(defined "$PPX" | grep -c .)"
[ -z "$both" ] || diag "in ppx and libppxd.a: $(head -20 <<<"$both" | tr '\n' ' ')"
none_shared() { [ -n "$daemon_syms" ] && [ -z "$both" ]; }
check "ppx holds no object of the daemon" none_shared

# (AddressSanitizer adds an __odr_asan.NAME indicator per global of its
# own making under SAN=1: not an export of ours.)
stray=$(defined "$BUILD/libppx.a" | grep -vE '^(ppx_|ppxi_|ppx__v1__|__odr_asan\.)')
[ -z "$stray" ] || diag "unprefixed: $(tr '\n' ' ' <<<"$stray")"
check "libppx.a exports only ppx_, ppxi_ and generated names" [ -z "$stray" ]

# The headers C11 itself defines; <sys/...> is allowed beside them.
c_headers='assert|complex|ctype|errno|fenv|float|inttypes|iso646|limits'
c_headers+='|locale|math|setjmp|signal|stdalign|stdarg|stdatomic|stdbool'
c_headers+='|stddef|stdint|stdio|stdlib|stdnoreturn|string|tgmath|threads'
c_headers+='|time|uchar|wchar|wctype'
allowed="#[[:space:]]*include[[:space:]]+(<($c_headers)\.h>|<sys/[a-z_/]+\.h>"
allowed+='|"ppx/[a-z_]+\.h"|"ppx\.pb-c\.h"|<protobuf-c/protobuf-c\.h>)'
bridge=include/ppx/json-c.h
hits=$(grep -nE '^#[[:space:]]*include' include/ppx/*.h |
	grep -v "^$bridge:" | grep -vE "^[^:]+:[0-9]+:$allowed")
[ -z "$hits" ] || diag "$hits"
check "include/ppx/ (but $bridge) includes no foreign library" [ -z "$hits" ]

# The same, seen by the compiler: each header compiled alone opens no
# OpenSSL or json-c header, directly or through another ppx header (which
# the grep above would let through, the bridge included).
foreign() {	# foreign HEADER: the foreign headers compiling it opens
	${CC:-cc} -std=c11 -fsyntax-only -H -Iinclude -I"$BUILD/gen" -x c "$1" \
		2>&1 >/dev/null | grep -E '^\.+ .*/(openssl|json-c)/'
}
hits=
for h in include/ppx/*.h; do
	[ "$h" = "$bridge" ] && continue
	out=$(foreign "$h") && hits+="$h: $(head -1 <<<"$out")"$'\n'
done
[ -z "$hits" ] || diag "$hits"
check "include/ppx/ (but $bridge) compiles without OpenSSL or json-c" \
	[ -z "$hits" ]

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
