#!/bin/sh
# Install Findling from the unpacked Linux tarball for the current user (default ~/.local),
# or system-wide with --prefix /usr/local (run as root). Uninstall with --uninstall.
#
#     ./install.sh [--prefix DIR] [--uninstall]
#
# SPDX-License-Identifier: AGPL-3.0-or-later
set -eu

APP_ID=io.findling.Findling
PREFIX="${HOME}/.local"
ACTION=install
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX="$2"; shift 2 ;;
        --prefix=*) PREFIX="${1#*=}"; shift ;;
        --uninstall) ACTION=uninstall; shift ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

HERE="$(cd "$(dirname "$0")" && pwd)"
LIBDIR="$PREFIX/lib/findling"
BINDIR="$PREFIX/bin"
SHARE="$PREFIX/share"

refresh_caches() {
    command -v update-desktop-database >/dev/null 2>&1 \
        && update-desktop-database -q "$SHARE/applications" 2>/dev/null || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 \
        && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" 2>/dev/null || true
}

if [ "$ACTION" = uninstall ]; then
    rm -rf "$LIBDIR"
    rm -f "$BINDIR/findling" "$BINDIR/findling-gui"
    rm -f "$SHARE/applications/$APP_ID.desktop" "$SHARE/metainfo/$APP_ID.metainfo.xml"
    find "$SHARE/icons/hicolor" -name "$APP_ID.*" -type f -delete 2>/dev/null || true
    refresh_caches
    echo "Findling removed from $PREFIX (your index and settings are kept)."
    exit 0
fi

mkdir -p "$PREFIX/lib" "$BINDIR" "$SHARE/applications" "$SHARE/metainfo"
rm -rf "$LIBDIR"
cp -a "$HERE/usr/lib/findling" "$LIBDIR"
ln -sf "$LIBDIR/findling" "$BINDIR/findling"
ln -sf "$LIBDIR/Findling" "$BINDIR/findling-gui"
# Absolute paths, so the menu entry works even when $BINDIR is not on PATH.
sed -e "s|^Exec=findling-gui|Exec=$BINDIR/findling-gui|" \
    -e "s|^TryExec=findling-gui|TryExec=$BINDIR/findling-gui|" \
    "$HERE/usr/share/applications/$APP_ID.desktop" > "$SHARE/applications/$APP_ID.desktop"
cp "$HERE/usr/share/metainfo/$APP_ID.metainfo.xml" "$SHARE/metainfo/"
(cd "$HERE/usr/share" && find icons -type f) | while read -r icon; do
    mkdir -p "$SHARE/$(dirname "$icon")"
    cp "$HERE/usr/share/$icon" "$SHARE/$icon"
done
refresh_caches
echo "Findling installed in $PREFIX. Start it from the applications menu or run: findling-gui"
case ":$PATH:" in
    *":$BINDIR:"*) ;;
    *) echo "Note: $BINDIR is not on your PATH; add it to use the 'findling' command." ;;
esac
