#!/usr/bin/env bash
# Installs the musl-target Rust toolchain runtara-build links with (and LLD, its linker):
# Debian's rustc-web/cargo-web 1.96, the std source they ship, and a std built once for
# x86_64-unknown-linux-musl into /usr/lib/rustlib. Idempotent and offline when already done:
# it reads only the dpkg database and a stamp file.
set -euo pipefail
T=x86_64-unknown-linux-musl
PKGS="rustc-web cargo-web rust-web-src rust-web-clippy musl-tools musl-dev lld"
SAME_VERSION="cargo-web rust-web-src rust-web-clippy"
STAMP=/usr/lib/rustlib/$T/.built-with
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

packages_ok() {
  dpkg-query -W -f='${Package} ${db:Status-Abbrev}${Version}\n' $PKGS 2>/dev/null | awk -v same="$SAME_VERSION" '
    BEGIN { n = split(same, s, " "); for (i = 1; i <= n; i++) want[s[i]] = 1 }
    { seen[$1] = 1; if ($2 != "ii") bad = 1; ver[$1] = $3 }
    END { if (bad || !("rustc-web" in seen)) exit 1
          for (p in want) if (!(p in seen) || ver[p] != ver["rustc-web"]) exit 1 }'
}
sysroot_ok() { [ -x /usr/bin/rustc ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$(/usr/bin/rustc -V)" ]; }

if packages_ok && sysroot_ok; then exit 0; fi
if ! packages_ok; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
  packages_ok || { echo "setup-toolchain: $PKGS missing or at different versions" >&2; exit 1; }
fi
sysroot_ok && exit 0

VERSION=$(/usr/bin/rustc -V | awk '{print $2}')
LIB=/usr/src/rustc-$VERSION/library
[ -d "$LIB/vendor" ] || { echo "setup-toolchain: no $LIB/vendor" >&2; exit 1; }
WORK=$(mktemp -d /tmp/runtara-musl.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
echo "setup-toolchain: building std for $T (rustc $VERSION, about a minute)" >&2

# LLVM's libunwind (gcc's libgcc_eh needs glibc); extracted, not installed.
$SUDO apt-get update -qq
apt-get download -qq libunwind-22-dev 2>/dev/null
dpkg-deb -x libunwind-22-dev_*.deb unwind

# Debian's static C libraries are built with glibc's _FORTIFY_SOURCE: give musl the symbols.
cat > compat.c <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
int __fprintf_chk(FILE *f, int l, const char *fmt, ...) { va_list a; va_start(a, fmt); int r = vfprintf(f, fmt, a); va_end(a); (void)l; return r; }
int __printf_chk(int l, const char *fmt, ...) { va_list a; va_start(a, fmt); int r = vprintf(fmt, a); va_end(a); (void)l; return r; }
int __sprintf_chk(char *s, int l, size_t n, const char *fmt, ...) { va_list a; va_start(a, fmt); int r = vsprintf(s, fmt, a); va_end(a); (void)l; (void)n; return r; }
int __snprintf_chk(char *s, size_t m, int l, size_t n, const char *fmt, ...) { va_list a; va_start(a, fmt); int r = vsnprintf(s, m, fmt, a); va_end(a); (void)l; (void)n; return r; }
int __vsnprintf_chk(char *s, size_t m, int l, size_t n, const char *fmt, va_list a) { (void)l; (void)n; return vsnprintf(s, m, fmt, a); }
int __vfprintf_chk(FILE *f, int l, const char *fmt, va_list a) { (void)l; return vfprintf(f, fmt, a); }
void *__memcpy_chk(void *d, const void *s, size_t n, size_t x) { (void)x; return memcpy(d, s, n); }
void *__memmove_chk(void *d, const void *s, size_t n, size_t x) { (void)x; return memmove(d, s, n); }
void *__memset_chk(void *d, int c, size_t n, size_t x) { (void)x; return memset(d, c, n); }
char *__strcpy_chk(char *d, const char *s, size_t x) { (void)x; return strcpy(d, s); }
char *__strcat_chk(char *d, const char *s, size_t x) { (void)x; return strcat(d, s); }
char *__strncpy_chk(char *d, const char *s, size_t n, size_t x) { (void)x; return strncpy(d, s, n); }
int fcntl64(int fd, int cmd, ...) { va_list a; va_start(a, cmd); void *p = va_arg(a, void *); va_end(a); return fcntl(fd, cmd, p); }
C
musl-gcc -O2 -fPIC -c compat.c -o compat.o

mkdir -p std/src std/.cargo
cat > std/Cargo.toml <<'TOML'
cargo-features = ["profile-rustflags"]
[package]
name = "musl-std"
version = "0.0.0"
edition = "2021"
[profile.release]
opt-level = 3
codegen-units = 1
debug = 0
[profile.release.package.panic_abort]
rustflags = ["-Cpanic=abort"]
TOML
echo '#![no_std]' > std/src/lib.rs
printf '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "%s"\n' "$LIB/vendor" > std/.cargo/config.toml
(cd std && PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-Cembed-bitcode=yes -Zforce-unstable-if-unmarked" \
  /usr/bin/cargo build -q --offline --release --target $T \
  -Zbuild-std=std,panic_unwind,panic_abort,proc_macro,test)

DEST=/usr/lib/rustlib/$T/lib
$SUDO rm -rf "$DEST"; $SUDO mkdir -p "$DEST/self-contained"
for f in std/target/$T/release/deps/lib*.rlib; do
  case "$f" in */libmusl_std-*) ;; *) $SUDO cp "$f" "$DEST/" ;; esac
done
SC="$DEST/self-contained"
$SUDO cp /usr/lib/x86_64-linux-musl/*.o /usr/lib/x86_64-linux-musl/*.a "$SC/"
for o in crtbegin.o crtbeginS.o crtbeginT.o crtend.o crtendS.o; do $SUDO cp "$(gcc -print-file-name=$o)" "$SC/"; done
$SUDO cp unwind/usr/lib/x86_64-linux-gnu/libunwind.a "$SC/"
$SUDO ar rcs "$SC/libc.a" compat.o

printf 'fn main() { println!("{}", std::thread::spawn(|| 42).join().unwrap()); }\n' > smoke.rs
/usr/bin/rustc -O --target $T smoke.rs -o smoke
if readelf -l smoke | grep -q 'program interpreter'; then echo "setup-toolchain: not static" >&2; exit 1; fi
[ "$(./smoke)" = 42 ]
/usr/bin/rustc -V | $SUDO tee "$STAMP" >/dev/null
echo "setup-toolchain: musl std ready for rustc $VERSION" >&2
