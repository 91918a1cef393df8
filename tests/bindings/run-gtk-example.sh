#!/bin/sh
# run-gtk-example.sh SCRIPT SCREENSHOT USERS_SERVER: runs the GTK 4 example
# under Xvfb, with the examples' HTTP server for its async fetches; it saves
# a screenshot of itself once every task has an outcome and prints the
# model's rows. Prints TAP through check-example.py, then checks the PNG.

script=$1
screenshot=$2
server=$3
here=$(dirname "$0")

if ! command -v xvfb-run >/dev/null; then
  echo "1..0 # SKIP xvfb-run is not installed (Debian package xvfb)"
  exit 77
fi

rm -f "$screenshot"
session=
command -v dbus-run-session >/dev/null && session=dbus-run-session

# with-users-server.py appends the server's URL to the command.
GSK_RENDERER=cairo "$here/check-example.py" "$here/fetch-users-gtk.expected" -- \
  "$here/with-users-server.py" "$server" -- \
  xvfb-run -a -s "-screen 0 1024x768x24" $session -- gjs -m "$script" --screenshot "$screenshot"
status=$?

# A PNG, and not an empty one.
if [ "$(head -c 8 "$screenshot" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] &&
   [ "$(wc -c < "$screenshot")" -gt 2000 ]; then
  echo "# screenshot saved: $screenshot"
else
  echo "Bail out! no screenshot in $screenshot"
  exit 1
fi
exit $status
