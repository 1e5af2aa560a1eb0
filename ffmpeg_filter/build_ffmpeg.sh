#!/usr/bin/env bash
# Builds FFmpeg 7.1.5 (Debian trixie's source) with the salcrop filter as a full-featured shared build and installs
# it into the build tree: bin/ffmpeg, bin/ffprobe, lib/libav*.so*, lib/pkgconfig, include.
#
# usage: ffmpeg_filter/build_ffmpeg.sh [BUILD_DIR]        (default: <repo>/build)
#
# Needs BUILD_DIR/lib/libsalcrop.so (the core, built first: configure link-tests it), nasm, pkg-config and the
# -dev packages of the external libraries below (scripts/setup.sh installs them). Finished builds are cached
# under ${SALCROP_CACHE:-~/.cache/salcrop}/ffmpeg-<hash>/, keyed by everything that goes into them (FFmpeg
# version, the filter source, the C ABI header, this script with its configure flags, the external libraries'
# versions). The core's sources are not part of the key: the filter links libsalcrop.so dynamically, so a core
# change needs no FFmpeg rebuild.
# Prints the cache key on its last line; build/.ffmpeg-abi-key keys what links against the libraries (PyAV).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$(mkdir -p "${1:-$repo/build}" && cd "${1:-$repo/build}" && pwd)
cache=${SALCROP_CACHE:-$HOME/.cache/salcrop}
jobs=${SALCROP_JOBS:-2}

ff_version=7.1.5
deb_version=7:7.1.5-0+deb13u1
orig_tarball=ffmpeg_${ff_version}.orig.tar.xz
orig_sha256=de668509caf9e35e3cd162473441fdb29538c6d96ed080292b3cf9e6fc5d558f

include_dir=$repo/csrc/include
# A fixed prefix keeps config.h the same for every key (a new prefix would recompile everything); the
# installed files are moved into the cache and the .pc files get their real prefix when copied to build/.
placeholder_prefix=/opt/salcrop-ffmpeg
log() { printf '[build_ffmpeg] %s\n' "$*" >&2; }

# A full build: every native decoder, encoder, demuxer, muxer, parser, bitstream filter, protocol and filter
# that FFmpeg 7.1.5 has (the default), plus the external libraries below, all from Debian's apt. What is out,
# and why (the README lists it too):
#   --disable-autodetect  nothing is picked up silently from the build machine: every external library is named
#                         here, so two machines with the same key build the same FFmpeg. This also leaves out
#                         hardware acceleration (VAAPI, VDPAU, CUDA/NVENC/NVDEC), X11/ALSA/SDL devices and ffplay.
#   no --enable-nonfree   (libfdk-aac and the like): the binaries stay redistributable under the GPL.
#   --disable-doc         no manuals/man pages (ffmpeg -h is there); saves a minute of build.
#   --disable-debug       no -g: a quicker compile and much smaller libraries; drop it to
#                         debug FFmpeg itself.
#   --disable-static      shared libraries only (PyAV and the filter link them).
external_libs=(
    --enable-libx264 --enable-libx265          # H.264 / HEVC encoders
    --enable-libvpx                            # VP8 / VP9 encoders (and decoders; the native ones stay default)
    --enable-libdav1d                          # AV1 decoder (fast; the native av1 decoder needs a hwaccel)
    --enable-libsvtav1                         # AV1 encoder (libsvtav1, SVT-AV1 1.4 in Debian 12)
    --enable-libopus --enable-libmp3lame       # Opus (WebM's audio) and MP3 encoders
    --enable-libfreetype --enable-libfontconfig --enable-libharfbuzz   # drawtext
    --enable-libass                            # subtitles/ass filters
    --enable-gnutls                            # https, rtmps, tls
    --enable-libsrt                            # srt://
    --enable-libxml2                           # the DASH demuxer (reading .mpd)
    --enable-zlib --enable-bzlib --enable-lzma --enable-iconv   # compressed MKV tracks, PNG, TIFF, subtitle charsets
)
# pkg-config names of those libraries: their versions are part of the cache key.
external_pc=(x264 x265 vpx dav1d SvtAv1Enc opus freetype2 fontconfig harfbuzz libass gnutls srt libxml-2.0 zlib liblzma)
config_flags=(
    --disable-autodetect --disable-doc --disable-debug --disable-static --enable-shared
    --enable-gpl
    "${external_libs[@]}"
)

ext_versions=$(for pc in "${external_pc[@]}"; do printf '%s=%s ' "$pc" "$(pkg-config --modversion "$pc" 2>/dev/null || echo none)"; done
               # LAME ships no .pc file in Debian 12: its package version stands in.
               dpkg-query -W -f='mp3lame=${Version}' libmp3lame-dev 2>/dev/null || echo mp3lame=unknown)
key=$( {
    echo "ffmpeg $deb_version $orig_sha256 $ext_versions core ${core_soname:-none}"
    printf '%s\n' "${config_flags[@]}"
    sha256sum "$here/vf_salcrop.c" "$include_dir/salcrop/salcrop.h" "$here/build_ffmpeg.sh" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
prefix=$cache/ffmpeg-$key
# What programs built against these libraries depend on (PyAV): the filter's source is not part of it.
abi_key=$( {
    echo "ffmpeg $deb_version $orig_sha256 $ext_versions"
    printf '%s\n' "${config_flags[@]}"
} | sha256sum | cut -c1-16)

install_into_build() {
    if [[ $(cat "$build/.ffmpeg-key" 2>/dev/null) == "$key" && -x $build/bin/ffmpeg ]]; then
        return 0
    fi
    mkdir -p "$build"
    # Unlink before copying: a running ffmpeg keeps its old file ("Text file busy" otherwise).
    cp -a --remove-destination "$prefix/." "$build/"
    # The .pc files name the prefix they were installed to; PyAV's build reads them from build/.
    sed -i -e "s|^prefix=.*|prefix=$build|" -e "s|$placeholder_prefix|\${prefix}|" \
        "$build"/lib/pkgconfig/libav*.pc "$build"/lib/pkgconfig/libsw*.pc "$build"/lib/pkgconfig/libpostproc.pc
    echo "$key" > "$build/.ffmpeg-key"
    echo "$abi_key" > "$build/.ffmpeg-abi-key"
}

if [[ -f $prefix/.complete ]]; then
    log "cache hit: $prefix"
    install_into_build
    echo "$key"
    exit 0
fi

# One build at a time per cache (two checkouts may share it); the winner may have built our key.
mkdir -p "$cache"
exec 9>"$cache/ffmpeg-build.lock"
flock 9
if [[ -f $prefix/.complete ]]; then
    log "cache hit after waiting: $prefix"
    install_into_build
    echo "$key"
    exit 0
fi

if [[ ! -e $build/lib/libsalcrop.so ]]; then
    log "error: $build/lib/libsalcrop.so is missing; build and install the core first (scripts/setup.sh does)"
    exit 1
fi
for tool in nasm pkg-config make cc; do
    command -v $tool >/dev/null || { log "error: '$tool' is missing (scripts/setup.sh installs it)"; exit 1; }
done
missing=$(for pc in "${external_pc[@]}"; do pkg-config --exists "$pc" || printf '%s ' "$pc"; done)
[[ -z $missing ]] || { log "error: pkg-config does not find: $missing(scripts/setup.sh installs their -dev packages)"; exit 1; }

# --- source: Debian trixie's FFmpeg, through a private apt configuration (the machine's sources stay untouched)
src_cache=$cache/src
mkdir -p "$src_cache"
if ! echo "$orig_sha256  $src_cache/$orig_tarball" | sha256sum -c --status 2>/dev/null; then
    apt_dir=$(mktemp -d)
    trap 'rm -rf "$apt_dir"' EXIT
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/dl"
    echo 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' \
        > "$apt_dir/sources.list"
    apt_opts=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" -o Debug::NoLocking=1
              -o APT::Sandbox::User="$(id -un)")
    log "fetching FFmpeg $deb_version source from Debian"
    apt-get "${apt_opts[@]}" update -qq
    # An exact Debian revision can vanish from the archive: fall back to whatever trixie has, then insist on
    # the same upstream tarball through its checksum.
    (cd "$apt_dir/dl" && { apt-get "${apt_opts[@]}" source --download-only "ffmpeg=$deb_version" \
        || apt-get "${apt_opts[@]}" source --download-only ffmpeg/trixie || true; }) >&2
    [[ -f $apt_dir/dl/$orig_tarball ]] || { log "error: $orig_tarball was not downloaded"; exit 1; }
    echo "$orig_sha256  $apt_dir/dl/$orig_tarball" | sha256sum -c --status \
        || { log "error: $orig_tarball checksum mismatch"; exit 1; }
    mv "$apt_dir/dl/$orig_tarball" "$src_cache/$orig_tarball"
fi

# --- source tree with the filter added; kept between builds so that a filter change recompiles one file
work=$cache/ffmpeg-work-$ff_version
src=$work/ffmpeg-$ff_version
if [[ ! -f $src/.extracted ]]; then
    rm -rf "$work"; mkdir -p "$work"
    tar -xJf "$src_cache/$orig_tarball" -C "$work"
    grep -q ff_vf_salcrop "$src/libavfilter/allfilters.c" \
        || sed -i '/^extern const AVFilter ff_vf_crop;/a extern const AVFilter ff_vf_salcrop;' "$src/libavfilter/allfilters.c"
    grep -q vf_salcrop.o "$src/libavfilter/Makefile" \
        || sed -i '/^OBJS-\$(CONFIG_CROP_FILTER) /a OBJS-$(CONFIG_SALCROP_FILTER)                += vf_salcrop.o' \
            "$src/libavfilter/Makefile"
    grep -q ff_vf_salcrop "$src/libavfilter/allfilters.c" && grep -q vf_salcrop.o "$src/libavfilter/Makefile" \
        || { log "error: could not register the filter in libavfilter"; exit 1; }
    touch "$src/.extracted"
fi
cmp -s "$here/vf_salcrop.c" "$src/libavfilter/vf_salcrop.c" || cp "$here/vf_salcrop.c" "$src/libavfilter/vf_salcrop.c"
# The header and the core library are staged inside the work tree so that configure's command line names no
# checkout: another checkout (or build dir) then reuses the objects instead of recompiling everything.
core=$work/core
mkdir -p "$core/include/salcrop" "$core/lib"
cmp -s "$include_dir/salcrop/salcrop.h" "$core/include/salcrop/salcrop.h" \
    || cp "$include_dir/salcrop/salcrop.h" "$core/include/salcrop/salcrop.h"
rm -f "$core"/lib/libsalcrop.so*
cp -a "$build"/lib/libsalcrop.so* "$core/lib/"

configure_cmd=(
    "$src/configure" --prefix="$placeholder_prefix"
    "${config_flags[@]}"
    --extra-cflags="-I$core/include"
    --extra-ldflags="-L$core/lib"
    --extra-libs="-lsalcrop -lstdc++"
)
# One object tree per configuration: checkouts building another configuration (an older, lean build) keep theirs
# instead of reconfiguring a shared one back and forth, which would recompile everything each time.
obj=$work/obj-$(printf '%s\n' "${config_flags[@]}" | sha256sum | cut -c1-12)
mkdir -p "$obj"
cd "$obj"
if [[ ! -f ffbuild/config.mak || "$(cat .configure-cmd 2>/dev/null)" != "${configure_cmd[*]}" ]]; then
    log "configuring"
    "${configure_cmd[@]}" > configure.log 2>&1 || { tail -30 configure.log >&2; log "error: configure failed (see $obj/ffbuild/config.log)"; exit 1; }
    # $ORIGIN rpaths keep the installed tree relocatable: the programs find ../lib, the libraries their own
    # directory (libavfilter needs libsalcrop.so). configure would expand a '$' itself, so they go straight
    # into config.mak: LDSOFLAGS is expanded twice by make (library.mak evals it), LDEXEFLAGS once; the
    # single quotes keep the shell off. Not --enable-rpath: its absolute rpaths land in the .pc files and
    # PyAV's build rejects them.
    sed -i -e "s|^LDEXEFLAGS=.*|& -Wl,-rpath,'\$\$ORIGIN/../lib'|" \
           -e "s|^LDSOFLAGS=.*|& -Wl,-rpath,'\$\$\$\$ORIGIN'|" ffbuild/config.mak
    printf '%s' "${configure_cmd[*]}" > .configure-cmd
fi
grep -q 'CONFIG_SALCROP_FILTER 1' config_components.h || { log "error: configure did not enable the salcrop filter"; exit 1; }

# make cannot see that libsalcrop.so changed: relink what links it (seconds).
rm -f libavfilter/libavfilter.so* ffmpeg ffmpeg_g ffprobe ffprobe_g
log "compiling with -j$jobs"
make -j"$jobs" > make.log 2>&1 || { grep -B2 -A8 -m3 'error' make.log >&2 || tail -30 make.log >&2; log "error: make failed (see $obj/make.log)"; exit 1; }
rm -rf stage "$prefix" "$prefix.partial"
make install DESTDIR="$obj/stage" > install.log 2>&1 || { tail -20 install.log >&2; exit 1; }
mv "$obj/stage$placeholder_prefix" "$prefix.partial"
rm -rf stage
touch "$prefix.partial/.complete"
mv "$prefix.partial" "$prefix"
log "installed into $prefix"
install_into_build
echo "$key"
