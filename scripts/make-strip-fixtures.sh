#!/usr/bin/env bash
# Regenerates the metadata-stripping fixtures in __tests__/fixtures/ (phone-*.{jpg,png,webp,gif,avif}):
# the 64x48 pattern of make-fixtures.sh, encoded by sharp (the project's node_modules) with
# libvips' built-in sRGB ICC profile, then tagged by exiftool like a phone photo: GPS, camera
# make/model/serial numbers, owner and artist names, in EXIF, XMP and IPTC as each format allows.
# Needs only node (>= 24, with the project's node_modules) and exiftool, so it also runs where
# ImageMagick is missing; make-fixtures.sh calls it. Overwrites only the files named below.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/__tests__/fixtures"
NODE="$ROOT/node_modules/.bin/node"
[[ -x "$NODE" ]] || NODE="$(command -v node)"
command -v exiftool >/dev/null || { echo "missing tool: exiftool" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Encoders (sharp/libvips) write no timestamps; exiftool only writes the tags named here.
(cd "$ROOT" && "$NODE" --input-type=module - "$TMP" <<'JS'
import sharp from 'sharp';
const dir = process.argv[2];
const [w, h] = [64, 48];
const frame = (variant) => {
  const pixels = Buffer.alloc(w * h * 3);
  for (let j = 0; j < h; j += 1) {
    for (let i = 0; i < w; i += 1) {
      const x = variant === 1 ? w - 1 - i : i;
      let rgb = [x / w, j / h, 0.5 + 0.5 * Math.sin((x + 2 * j) / 5)];
      if (variant === 2) rgb = rgb.map((v) => 1 - v);
      rgb.forEach((v, c) => (pixels[(j * w + i) * 3 + c] = Math.round(v * 255)));
    }
  }
  return pixels;
};
const raw = { raw: { width: w, height: h, channels: 3 } };
const base = () => sharp(frame(0), raw).withIccProfile('srgb');
await base().jpeg({ quality: 90, chromaSubsampling: '4:2:0' }).toFile(`${dir}/phone.jpg`);
await base().png().toFile(`${dir}/phone.png`);
await base().webp({ quality: 80 }).toFile(`${dir}/phone.webp`);
await base().avif({ quality: 60, effort: 4 }).toFile(`${dir}/phone.avif`);
const frames = Buffer.concat([frame(0), frame(1), frame(2)]);
await sharp(frames, { raw: { width: w, height: h * 3, channels: 3, pageHeight: h } })
  .gif({ loop: 0, delay: [200, 200, 200] })
  .toFile(`${dir}/phone.gif`);

JS
)

# What identifies the phone, its owner and the place, in EXIF (IFD0, ExifIFD, GPS).
EXIF_TAGS=(
  -EXIF:Make='FixtureCam' -EXIF:Model='FC-200 Phone' -EXIF:Software='make-strip-fixtures.sh'
  -EXIF:Artist='Jane Fixture' -EXIF:Copyright='Jane Fixture'
  -ExifIFD:SerialNumber='SN-0123456789' -ExifIFD:OwnerName='Jane Fixture'
  -ExifIFD:LensSerialNumber='LSN-42' -ExifIFD:DateTimeOriginal='2021:06:15 12:34:56'
  -GPS:GPSVersionID='2 3 0 0'
  -GPS:GPSLatitude=48.858370 -GPS:GPSLatitudeRef=N
  -GPS:GPSLongitude=2.294481 -GPS:GPSLongitudeRef=E
  -GPS:GPSAltitude=35 -GPS:GPSAltitudeRef=0
)
XMP_TAGS=(
  -XMP-dc:Creator='Jane Fixture' -XMP-aux:SerialNumber='SN-0123456789'
  -XMP-photoshop:City='Paris'
)
IPTC_TAGS=(-IPTC:By-line='Jane Fixture' -IPTC:City='Paris' -IPTC:Country-PrimaryLocationName='France')
# XMP's GPS goes in its own run: written with EXIF's GPS tags of the same names, exiftool drops it.
XMP_GPS=(-XMP-exif:GPSLatitude=48.858370 -XMP-exif:GPSLongitude=2.294481)
tag() { exiftool -q -q -overwrite_original -n "$@" && exiftool -q -q -overwrite_original -n "${XMP_GPS[@]}" "${@: -1}"; }

for o in 1 3 6 8; do
  cp "$TMP/phone.jpg" "$OUT/phone-o$o.jpg"
  tag "${EXIF_TAGS[@]}" -IFD0:Orientation="$o" "${XMP_TAGS[@]}" "${IPTC_TAGS[@]}" \
    -Comment='taken by Jane Fixture' "$OUT/phone-o$o.jpg"
done

# PNG: EXIF in eXIf, XMP in iTXt, text in tEXt.
cp "$TMP/phone.png" "$OUT/phone.png"
tag "${EXIF_TAGS[@]}" -IFD0:Orientation=6 "${XMP_TAGS[@]}" \
  -PNG:Author='Jane Fixture' -PNG:Comment='taken in Paris' "$OUT/phone.png"

# WebP: EXIF and XMP chunks (exiftool adds the VP8X flags).
cp "$TMP/phone.webp" "$OUT/phone.webp"
tag "${EXIF_TAGS[@]}" -IFD0:Orientation=6 "${XMP_TAGS[@]}" "$OUT/phone.webp"

# GIF: a Comment Extension and XMP as a "XMP DataXMP" Application Extension.
cp "$TMP/phone.gif" "$OUT/phone.gif"
tag "${XMP_TAGS[@]}" -Comment='taken by Jane Fixture in Paris' "$OUT/phone.gif"

# AVIF: Exif and XMP items.
cp "$TMP/phone.avif" "$OUT/phone.avif"
tag "${EXIF_TAGS[@]}" "${XMP_TAGS[@]}" "$OUT/phone.avif"

echo "strip fixtures written to $OUT"
