//! Category pictures served by the sandbox itself, so that a category
//! picker can be tried and tested offline: `GET /category-images/{file}`.
//!
//! Each picture is a 144x192 PNG (the 3:4 of box art) drawn here: a colour
//! from the slug, a few stripes and the category's initials in a 5x7 pixel
//! font. `irl.png` is deliberately broken (an HTML error page answered with
//! 200 and `Content-Type: image/png`, as a misconfigured CDN does); unknown
//! files are 404. Not under `/api/`: not rate limited, not in the API
//! request log; they have their own log (`/_sandbox/images`).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::{category, ImageRecord};
use crate::util::{self, now_ms};
use crate::web::Shared;

/// The category whose picture is broken.
pub const BROKEN: &str = "irl";
pub const WIDTH: u32 = 144;
pub const HEIGHT: u32 = 192;

/// 5x7 capitals (each row's 5 low bits, top row first).
fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c {
        'A' => [0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
        'B' => [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
        'C' => [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e],
        'D' => [0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e],
        'E' => [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f],
        'G' => [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f],
        'I' => [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
        'M' => [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11],
        'P' => [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
        'R' => [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
        'S' => [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e],
        'T' => [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        _ => return None,
    })
}

/// HSV (h in degrees, s and v in 0..=1) to RGB.
fn hsv(h: f32, s: f32, v: f32) -> [u8; 3] {
    let c = v * s;
    let hp = (h % 360.0) / 60.0;
    let x = c * (1.0 - ((hp % 2.0) - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [
        ((r + m) * 255.0) as u8,
        ((g + m) * 255.0) as u8,
        ((b + m) * 255.0) as u8,
    ]
}

/// The RGB pixels of a category's picture.
fn draw(slug: &str) -> Vec<[u8; 3]> {
    // Twelve well-separated hues, picked by an FNV-1a hash of the slug.
    let hash = slug
        .bytes()
        .fold(0x811c_9dc5u32, |a, b| (a ^ u32::from(b)).wrapping_mul(0x0100_0193));
    let hue = (hash >> 7) % 12 * 30;
    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let mut px = vec![[0u8; 3]; w * h];
    for y in 0..h {
        for x in 0..w {
            // A vertical gradient with diagonal stripes.
            let v = 0.55 - 0.25 * (y as f32 / h as f32);
            let stripe = ((x + y) / 18) % 2 == 0;
            px[y * w + x] = hsv(hue as f32, 0.6, if stripe { v } else { v * 0.85 });
        }
    }
    // Initials: the first letter of each word, at most three, scaled 5x.
    let initials: Vec<char> = slug
        .split('-')
        .filter(|p| !["and", "of", "the"].contains(p))
        .filter_map(|p| p.chars().next())
        .map(|c| c.to_ascii_uppercase())
        .take(3)
        .collect();
    let scale = 5usize;
    let text_w = initials.len() * 6 * scale - scale;
    let x0 = w.saturating_sub(text_w) / 2;
    let y0 = (h - 7 * scale) / 2;
    for (i, c) in initials.iter().enumerate() {
        let Some(g) = glyph(*c) else { continue };
        for (row, bits) in g.iter().enumerate() {
            for col in 0..5 {
                if bits & (0x10 >> col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let x = x0 + (i * 6 + col) * scale + dx;
                        let y = y0 + row * scale + dy;
                        if x < w && y < h {
                            px[y * w + x] = [250, 250, 250];
                        }
                    }
                }
            }
        }
    }
    px
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A truecolour PNG of `px` (zlib with stored blocks: no compressor needed).
fn png(w: u32, h: u32, px: &[[u8; 3]]) -> Vec<u8> {
    let mut raw = Vec::with_capacity((w as usize * 3 + 1) * h as usize);
    for row in px.chunks(w as usize) {
        raw.push(0); // filter: none
        for p in row {
            raw.extend_from_slice(p);
        }
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = b.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(b);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// The PNG of a category's picture.
pub fn category_png(slug: &str) -> Vec<u8> {
    png(WIDTH, HEIGHT, &draw(slug))
}

/// `GET /category-images/{file}`.
pub async fn serve(State(st): State<Shared>, Path(file): Path<String>) -> Response {
    let latency = st.lock().image_latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let slug = file.strip_suffix(".png").unwrap_or("");
    let resp = match category(slug).filter(|c| c.has_image) {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(c) if c.slug == BROKEN => {
            let mut r = "<html><body><h1>502 Bad Gateway</h1></body></html>".into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            r
        }
        Some(c) => {
            let mut r = category_png(c.slug).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=604800"),
            );
            r
        }
    };
    let mut g = st.lock();
    if g.images.len() >= 1000 {
        g.images.remove(0);
    }
    g.images.push(ImageRecord {
        path: format!("/category-images/{file}"),
        status: resp.status().as_u16(),
        at: util::iso8601(now_ms(), true),
    });
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_valid_pngs_with_the_declared_size() {
        let p = category_png("science-and-technology");
        assert_eq!(&p[..8], &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]);
        assert_eq!(&p[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes([p[16], p[17], p[18], p[19]]), WIDTH);
        assert_eq!(u32::from_be_bytes([p[20], p[21], p[22], p[23]]), HEIGHT);
        assert_eq!(&p[p.len() - 8..p.len() - 4], b"IEND");
        // CRC of IEND is the well-known constant.
        assert_eq!(&p[p.len() - 4..], &[0xae, 0x42, 0x60, 0x82]);
        assert_ne!(category_png("art"), category_png("gaming"));
    }
}
