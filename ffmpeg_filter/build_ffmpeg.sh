#!/usr/bin/env bash
# Builds FFmpeg 7.1.5 (Debian trixie's source) with the salcrop filter as a lean shared build and installs
# it into the build tree: bin/ffmpeg, bin/ffprobe, lib/libav*.so*, lib/pkgconfig, include.
#
# usage: ffmpeg_filter/build_ffmpeg.sh [BUILD_DIR]        (default: <repo>/build)
#
# Needs BUILD_DIR/lib/libsalcrop.so (the core, built first: configure link-tests it) and nasm, libx264-dev,
# pkg-config. Finished builds are cached under ${SALCROP_CACHE:-~/.cache/salcrop}/ffmpeg-<hash>/, keyed by
# everything that goes into them (FFmpeg version, the filter source, the C ABI header, this script with its
# configure flags, the x264 version). The core's sources are not part of the key: the filter links
# libsalcrop.so dynamically, so a core change needs no FFmpeg rebuild.
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

# Only what the CLI, the tests and PyAV use. The ffmpeg CLI itself needs buffer/buffersink, format,
# scale, aresample, null/anull and, for autorotation, transpose/hflip/vflip/rotate; `-f null` output
# needs the wrapped_avframe encoder; `-f lavfi` input needs its decoder.
components=(
    --enable-protocol=file,pipe
    --enable-demuxer=mov,matroska,avi,mpegts,rawvideo,image2,h264,hevc,aac,mp3,wav,m4v
    --enable-muxer=mov,mp4,matroska,avi,mpegts,rawvideo,image2,wav,null,framecrc,framemd5,adts,mp3,h264
    --enable-decoder=h264,hevc,mpeg4,mjpeg,png,rawvideo,aac,mp3,mp3float,pcm_s16le,wrapped_avframe
    --enable-encoder=libx264,aac,mpeg4,rawvideo,png,pcm_s16le,wrapped_avframe
    --enable-parser=h264,hevc,aac,mpeg4video,mpegaudio,png,mjpeg
    --enable-bsf=h264_mp4toannexb,hevc_mp4toannexb,aac_adtstoasc,extract_extradata,mpeg4_unpack_bframes,null
    --enable-indev=lavfi
    --enable-filter=salcrop,crop,scale,format,null,anull,aformat,aresample,transpose,hflip,vflip,rotate
    --enable-filter=testsrc,testsrc2,color,sine,anullsrc,split,asplit,hstack,vstack,pad,fps,setpts,asetpts
    --enable-filter=trim,atrim,showinfo,nullsink,anullsink,buffer,buffersink,abuffer,abuffersink
    --enable-filter=setsar,setdar,copy,concat,drawbox,boxblur,gblur,overlay,scale2ref,select,aselect
)
config_flags=(
    --disable-everything --disable-autodetect --disable-doc --disable-static --enable-shared
    --enable-gpl --enable-libx264 --enable-zlib --enable-swscale --enable-swresample --enable-avdevice
    "${components[@]}"
)

x264_version=$(pkg-config --modversion x264 2>/dev/null || echo none)
# libavfilter records the core's SONAME: a new one needs a relink, nothing more.
core_soname=$(readelf -d "$build/lib/libsalcrop.so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
key=$( {
    echo "ffmpeg $deb_version $orig_sha256 x264 $x264_version core ${core_soname:-none}"
    printf '%s\n' "${config_flags[@]}"
    sha256sum "$here/vf_salcrop.c" "$include_dir/salcrop/salcrop.h" "$here/build_ffmpeg.sh" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
prefix=$cache/ffmpeg-$key
# What programs built against these libraries depend on (PyAV): the filter's source is not part of it.
abi_key=$( {
    echo "ffmpeg $deb_version $orig_sha256 x264 $x264_version"
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
[[ $x264_version != none ]] || { log "error: x264 not found by pkg-config (apt-get install libx264-dev)"; exit 1; }

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
obj=$work/obj
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
