//! What kind of image a byte string is, and how many pixels it would decode
//! to, read from its header alone (no decoding). The plugin checks category
//! thumbnails with it before any decoder sees them: only PNG, JPEG, GIF and
//! WebP, and nothing whose size exceeds the pixel cap.
//!
//! Every read is bounds-checked; the input is untrusted (it comes from an
//! image host). Fuzzed (`fuzz/fuzz_targets/image_header.rs`).

/// The formats the dock may decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl Format {
    /// The file name extension the cache uses (decoders pick the format by it).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::Gif => "gif",
            Format::WebP => "webp",
        }
    }

    pub const ALL: [Format; 4] = [Format::Png, Format::Jpeg, Format::Gif, Format::WebP];
}

/// Format and pixel dimensions declared in the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 2)?;
    Some(u32::from(s[0]) << 8 | u32::from(s[1]))
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 2)?;
    Some(u32::from(s[1]) << 8 | u32::from(s[0]))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[2]) << 16 | u32::from(s[1]) << 8 | u32::from(s[0]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Reads the header of `bytes`; `None` when it is not one of [`Format`]
/// or the header is cut short or declares an empty image.
pub fn read(bytes: &[u8]) -> Option<Header> {
    let h = png(bytes)
        .or_else(|| gif(bytes))
        .or_else(|| jpeg(bytes))
        .or_else(|| webp(bytes))?;
    (h.width > 0 && h.height > 0).then_some(h)
}

fn png(b: &[u8]) -> Option<Header> {
    const SIG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    if b.get(..8)? != SIG || b.get(12..16)? != b"IHDR" || be32(b, 8)? != 13 {
        return None;
    }
    Some(Header {
        format: Format::Png,
        width: be32(b, 16)?,
        height: be32(b, 20)?,
    })
}

fn gif(b: &[u8]) -> Option<Header> {
    let sig = b.get(..6)?;
    if sig != b"GIF87a" && sig != b"GIF89a" {
        return None;
    }
    Some(Header {
        format: Format::Gif,
        width: le16(b, 6)?,
        height: le16(b, 8)?,
    })
}

/// Walks the JPEG markers up to the first start-of-frame.
fn jpeg(b: &[u8]) -> Option<Header> {
    if b.get(..2)? != [0xff, 0xd8] {
        return None;
    }
    let mut i = 2;
    loop {
        // A marker: one or more 0xff, then the code.
        if *b.get(i)? != 0xff {
            return None;
        }
        while *b.get(i)? == 0xff {
            i += 1;
        }
        let code = *b.get(i)?;
        i += 1;
        match code {
            // Markers without a length: TEM, RSTn.
            0x01 | 0xd0..=0xd7 => continue,
            // Start of scan or end of image before any frame header.
            0xd9 | 0xda => return None,
            _ => {}
        }
        let len = be16(b, i)? as usize;
        if len < 2 {
            return None;
        }
        let is_sof = matches!(code, 0xc0..=0xcf) && !matches!(code, 0xc4 | 0xc8 | 0xcc);
        if is_sof {
            // length(2) precision(1) height(2) width(2)
            return Some(Header {
                format: Format::Jpeg,
                height: be16(b, i + 3)?,
                width: be16(b, i + 5)?,
            });
        }
        i = i.checked_add(len)?;
    }
}

fn webp(b: &[u8]) -> Option<Header> {
    if b.get(..4)? != b"RIFF" || b.get(8..12)? != b"WEBP" {
        return None;
    }
    let chunk = b.get(12..16)?;
    let (width, height) = match chunk {
        b"VP8 " => {
            // chunk header(8), frame tag(3), start code 9d 01 2a, then 14-bit sizes.
            if b.get(23..26)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            (le16(b, 26)? & 0x3fff, le16(b, 28)? & 0x3fff)
        }
        b"VP8L" => {
            if *b.get(20)? != 0x2f {
                return None;
            }
            let bits = le32(b, 21)?;
            ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1)
        }
        b"VP8X" => (le24(b, 24)? + 1, le24(b, 27)? + 1),
        _ => return None,
    };
    Some(Header {
        format: Format::WebP,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut v = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        v.extend_from_slice(b"IHDR");
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&[8, 2, 0, 0, 0]);
        v
    }

    #[test]
    fn png_gif_jpeg_webp() {
        assert_eq!(
            read(&png_header(144, 192)),
            Some(Header {
                format: Format::Png,
                width: 144,
                height: 192
            })
        );
        let gif = b"GIF89a\x40\x01\xf0\x00\x00\x00\x00";
        assert_eq!(
            read(gif).map(|h| (h.format, h.width, h.height)),
            Some((Format::Gif, 320, 240))
        );
        // SOI, APP0 (length 16), SOF0 with height 480 and width 640.
        let mut jpg = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10];
        jpg.extend_from_slice(&[0; 14]);
        jpg.extend_from_slice(&[0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03]);
        assert_eq!(
            read(&jpg).map(|h| (h.format, h.width, h.height)),
            Some((Format::Jpeg, 640, 480))
        );
        // A DHT before the frame is skipped, fill bytes too.
        let mut jpg2 = vec![0xff, 0xd8, 0xff, 0xff, 0xc4, 0x00, 0x04, 0xaa, 0xbb];
        jpg2.extend_from_slice(&[0xff, 0xc2, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x20]);
        assert_eq!(read(&jpg2).map(|h| (h.width, h.height)), Some((32, 16)));
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x3f, 0x01, 0x00, 0xef, 0x00, 0x00]);
        assert_eq!(
            read(&vp8x).map(|h| (h.format, h.width, h.height)),
            Some((Format::WebP, 320, 240))
        );
        let mut vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        // width-1 = 99, height-1 = 49
        let bits: u32 = 99 | (49 << 14);
        vp8l.extend_from_slice(&bits.to_le_bytes());
        assert_eq!(read(&vp8l).map(|h| (h.width, h.height)), Some((100, 50)));
    }

    #[test]
    fn not_images_and_cut_headers() {
        assert_eq!(read(b""), None);
        assert_eq!(read(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(read(b"<html>502 Bad Gateway</html>"), None);
        assert_eq!(read(&png_header(144, 192)[..20]), None);
        assert_eq!(read(&png_header(0, 192)), None);
        assert_eq!(read(&[0xff, 0xd8, 0xff]), None);
        assert_eq!(read(&[0xff, 0xd8, 0xff, 0xda, 0x00, 0x02]), None);
        assert_eq!(read(&[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01]), None);
        // A length that jumps past the end.
        assert_eq!(read(&[0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0x00]), None);
        assert_eq!(read(b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\0\0\0\0"), None);
    }

    #[test]
    fn never_panics_on_any_prefix_of_valid_headers() {
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x3f, 0x01, 0x00, 0xef, 0x00, 0x00]);
        for whole in [png_header(1, 1), b"GIF87a\x01\0\x01\0".to_vec(), vp8x] {
            for n in 0..whole.len() {
                let _ = read(&whole[..n]);
            }
        }
    }
}
