#!/bin/sh
# check-install.sh BUILD_ROOT SOURCE_ROOT
#
# Installs the build into a scratch DESTDIR and checks what a user of the
# installed library sees: the pkg-config file, the headers (libgather.h
# only), the exported symbols, the GIR, typelib and VAPI. Builds and links
# the seed example against the installed files.

set -eu
build=$1
source=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

fail () { echo "not ok: $*"; exit 1; }

meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >/dev/null

pc=$(find "$dest" -name libgather-1.pc | head -n 1)
[ -n "$pc" ] || fail "libgather-1.pc was not installed"
# Every path in the .pc file derives from ${prefix}: move it into DESTDIR.
mkdir "$dest/pc"
prefix=$(sed -n 's/^prefix=//p' "$pc")
sed "s|^prefix=.*|prefix=$dest$prefix|" "$pc" > "$dest/pc/libgather-1.pc"
export PKG_CONFIG_PATH="$dest/pc"
cflags=$(pkg-config --cflags libgather-1)
libs=$(pkg-config --libs libgather-1)
libdir=$(pkg-config --variable=libdir libgather-1)
echo "ok: pkg-config libgather-1 ($libs)"

# The seed example, against the installed headers and library.
cc -Wall -Werror -o "$dest/fetch-users" "$source/examples/fetch-users.c" $cflags $libs ||
  fail "the example does not build against the installed library"
LD_LIBRARY_PATH="$libdir" ldd "$dest/fetch-users" | grep -q "$libdir/libgather-1.so" ||
  fail "the example does not link to the installed library"
echo "ok: examples/fetch-users.c builds and links against the installed files"

# Only <libgather.h> may be included.
printf '#include <gather-group.h>\nint main (void) { return 0; }\n' > "$dest/direct.c"
if cc -c -o "$dest/direct.o" "$dest/direct.c" $cflags 2>"$dest/direct.err"; then
  fail "including gather-group.h directly compiled"
fi
grep -q 'Only <libgather.h> can be included directly' "$dest/direct.err" ||
  fail "including gather-group.h directly failed for another reason"
echo "ok: only <libgather.h> can be included"

# Hidden symbols: everything exported is gather_*.
exported=$(nm -D --defined-only "$libdir/libgather-1.so" | awk '{print $3}')
other=$(echo "$exported" | grep -v '^gather_' || true)
[ -z "$other" ] || fail "exported symbols outside gather_: $other"
echo "ok: $(echo "$exported" | wc -l) symbols exported, all gather_*"

# The command, its plugins, man page and completion; the installed command
# finds the installed plugins.
plugindir=$(pkg-config --variable=plugindir libgather-1)
for p in sleep checksum spawn compute; do
  [ -f "$plugindir/gather-$p.so" ] || fail "plugin gather-$p.so was not installed in $plugindir"
done
gather=$(find "$dest" -path '*/bin/gather' -type f | head -n 1)
[ -x "$gather" ] || fail "the gather command was not installed"
# Only the DESTDIR copy: GATHER_PLUGIN_DIR replaces the configured system
# directory (which may hold an older install), and no user's plugins.
workers=$(GATHER_PLUGIN_PATH= GATHER_PLUGIN_DIR="$plugindir" XDG_DATA_HOME="$dest/no-user-data" \
  LD_LIBRARY_PATH="$libdir" "$gather" plugins --names | tr '\n' ' ')
[ "$workers" = "checksum compute sleep spawn " ] || fail "the installed gather lists: $workers"
[ -n "$(find "$dest" -name gather.1)" ] || fail "the man page gather.1 was not installed"
[ -n "$(find "$dest" -path '*completions/gather')" ] || fail "the bash completion was not installed"
[ -n "$(find "$dest" -name fetch-users.json)" ] || fail "the example task files were not installed"
echo "ok: gather, its plugins ($workers), man page, completion and examples installed"

# The helper program of isolated tasks, where the library looks for it, and
# the installed command running a task in it.
helper=$(find "$dest" -path '*/libexec/gather-helper-1' -type f | head -n 1)
[ -x "$helper" ] || fail "the helper program gather-helper-1 was not installed in libexecdir"
isolated=$(GATHER_PLUGIN_PATH= GATHER_PLUGIN_DIR="$plugindir" XDG_DATA_HOME="$dest/no-user-data" \
  GATHER_HELPER="$helper" LD_LIBRARY_PATH="$libdir" "$gather" run --isolate --json --quiet \
  'sleep ms=1 value=isolated') || fail "the installed gather could not run an isolated task"
echo "$isolated" | grep -q '"result":"isolated"' || fail "the isolated task did not return its value: $isolated"
echo "ok: the helper program is installed, and the installed gather runs an isolated task with it"

for f in Gather-1.gir Gather-1.typelib libgather-1.vapi gather-enums.h gather-version.h; do
  [ -n "$(find "$dest" -name "$f")" ] || fail "$f was not installed"
done
echo "ok: Gather-1.gir, Gather-1.typelib, libgather-1.vapi and generated headers installed"
