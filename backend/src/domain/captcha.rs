//! The image captcha of the sign-in form (seed 004 §2.2.2 验证码). The server draws five
//! characters as distorted strokes in an SVG made only of paths (no text a script could
//! read), keeps the answer hashed for five minutes, and accepts one answer per captcha.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use super::{exec, new_id, sha256_hex};
use crate::entity::captcha;
use crate::error::AppError;
use certdesk_shared::ErrorCode;

pub const LENGTH: usize = 5;
pub const TTL: Duration = Duration::minutes(5);
/// No 0/O, 1/I/L, B/8, G/6, S/5, Z/2 pairs.
const ALPHABET: &[u8] = b"2345678ACEFHKMNPRTUWXY";

/// Strokes of each character on an 8 × 12 grid (x right, y down).
fn glyph(c: u8) -> &'static [&'static [(f32, f32)]] {
    match c {
        b'2' => &[&[(0., 2.), (2., 0.), (6., 0.), (8., 2.), (8., 4.), (0., 12.), (8., 12.)]],
        b'3' => &[&[(0., 0.), (8., 0.), (4., 5.), (8., 7.), (8., 10.), (6., 12.), (2., 12.), (0., 10.)]],
        b'4' => &[&[(6., 12.), (6., 0.), (0., 8.), (8., 8.)]],
        b'5' => &[&[(8., 0.), (0., 0.), (0., 5.), (6., 5.), (8., 7.), (8., 10.), (6., 12.), (0., 12.)]],
        b'6' => {
            &[&[(7., 0.), (3., 0.), (0., 4.), (0., 10.), (2., 12.), (6., 12.), (8., 10.), (8., 7.), (6., 5.), (0., 6.)]]
        }
        b'7' => &[&[(0., 0.), (8., 0.), (3., 12.)]],
        b'8' => &[&[
            (2., 0.),
            (6., 0.),
            (8., 2.),
            (8., 4.),
            (6., 6.),
            (2., 6.),
            (0., 8.),
            (0., 10.),
            (2., 12.),
            (6., 12.),
            (8., 10.),
            (8., 8.),
            (6., 6.),
            (2., 6.),
            (0., 4.),
            (0., 2.),
            (2., 0.),
        ]],
        b'A' => &[&[(0., 12.), (4., 0.), (8., 12.)], &[(2., 7.), (6., 7.)]],
        b'C' => &[&[(8., 1.), (6., 0.), (2., 0.), (0., 3.), (0., 9.), (2., 12.), (6., 12.), (8., 11.)]],
        b'E' => &[&[(8., 0.), (0., 0.), (0., 12.), (8., 12.)], &[(0., 6.), (6., 6.)]],
        b'F' => &[&[(8., 0.), (0., 0.), (0., 12.)], &[(0., 6.), (6., 6.)]],
        b'H' => &[&[(0., 0.), (0., 12.)], &[(8., 0.), (8., 12.)], &[(0., 6.), (8., 6.)]],
        b'K' => &[&[(0., 0.), (0., 12.)], &[(8., 0.), (0., 7.)], &[(3., 5.), (8., 12.)]],
        b'M' => &[&[(0., 12.), (0., 0.), (4., 7.), (8., 0.), (8., 12.)]],
        b'N' => &[&[(0., 12.), (0., 0.), (8., 12.), (8., 0.)]],
        b'P' => &[&[(0., 12.), (0., 0.), (6., 0.), (8., 2.), (8., 4.), (6., 6.), (0., 6.)]],
        b'R' => &[&[(0., 12.), (0., 0.), (6., 0.), (8., 2.), (8., 4.), (6., 6.), (0., 6.)], &[(4., 6.), (8., 12.)]],
        b'T' => &[&[(0., 0.), (8., 0.)], &[(4., 0.), (4., 12.)]],
        b'U' => &[&[(0., 0.), (0., 10.), (2., 12.), (6., 12.), (8., 10.), (8., 0.)]],
        b'W' => &[&[(0., 0.), (2., 12.), (4., 5.), (6., 12.), (8., 0.)]],
        b'X' => &[&[(0., 0.), (8., 12.)], &[(8., 0.), (0., 12.)]],
        b'Y' => &[&[(0., 0.), (4., 6.), (8., 0.)], &[(4., 6.), (4., 12.)]],
        _ => &[],
    }
}

/// The drawing's numbers: uniform (no modulo bias), from a generator seeded from the
/// operating system's CSPRNG ([`crate::random::generator`]).
struct Rng(rand::rngs::StdRng);

impl Rng {
    fn new() -> Result<Rng, anyhow::Error> {
        Ok(Rng(crate::random::generator()?))
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: u32) -> u32 {
        rand::Rng::random_range(&mut self.0, 0..n)
    }
    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        rand::Rng::random_range(&mut self.0, lo..hi)
    }
}

/// Draws `answer` as an SVG. The characters' strokes, cut into jittered pieces, and a few
/// decoy strokes go into one path in shuffled order, so neither the element order, the
/// styles nor the point counts tell a script which stroke belongs to which character.
fn draw(answer: &str, rng: &mut Rng) -> String {
    const W: f32 = 160.;
    const H: f32 = 50.;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="captcha"><rect width="{W}" height="{H}" fill="#f3f6fa"/>"##
    );
    for _ in 0..4 {
        let (x1, y1, cx, cy, x2, y2) = (
            rng.range(0., 30.),
            rng.range(5., 45.),
            rng.range(40., 120.),
            rng.range(0., 50.),
            rng.range(130., 160.),
            rng.range(5., 45.),
        );
        svg.push_str(&format!(
            r##"<path d="M{x1:.1} {y1:.1} Q{cx:.1} {cy:.1} {x2:.1} {y2:.1}" stroke="#{:06x}" stroke-width="1" fill="none"/>"##,
            0x909090 + rng.below(0x303030)
        ));
    }
    let mut pieces: Vec<String> = Vec::new();
    for (i, c) in answer.bytes().enumerate() {
        let scale = rng.range(2.3, 2.9);
        let angle = rng.range(-0.35, 0.35);
        let (ox, oy) = (10. + i as f32 * 29. + rng.range(-3., 3.), 8. + rng.range(-4., 4.));
        let (sin, cos) = angle.sin_cos();
        let place = |x: f32, y: f32, rng: &mut Rng| {
            let (x, y) = ((x - 4.) * scale + rng.range(-0.7, 0.7), (y - 6.) * scale + rng.range(-0.7, 0.7));
            (x * cos - y * sin + ox + 4. * scale, x * sin + y * cos + oy + 6. * scale * 0.6)
        };
        for stroke in glyph(c) {
            // Each segment becomes 1 to 3 pieces; pieces overlap a little so the lines join.
            let mut d = String::new();
            for w in stroke.windows(2) {
                let ((x1, y1), (x2, y2)) = (w[0], w[1]);
                let cuts = 1 + rng.below(3);
                for k in 0..cuts {
                    let t0 = (k as f32 / cuts as f32 - 0.04).max(0.);
                    let t1 = ((k + 1) as f32 / cuts as f32 + 0.04).min(1.);
                    let (ax, ay) = place(x1 + (x2 - x1) * t0, y1 + (y2 - y1) * t0, rng);
                    let (bx, by) = place(x1 + (x2 - x1) * t1, y1 + (y2 - y1) * t1, rng);
                    if rng.below(2) == 0 {
                        pieces.push(format!("M{ax:.1} {ay:.1}L{bx:.1} {by:.1}"));
                    } else {
                        d.push_str(&format!("M{bx:.1} {by:.1}L{ax:.1} {ay:.1}"));
                    }
                }
            }
            if !d.is_empty() {
                pieces.push(d);
            }
        }
    }
    // Decoy strokes of the same weight and colour.
    for _ in 0..6 {
        let (x, y) = (rng.range(5., 150.), rng.range(8., 42.));
        let (dx, dy) = (rng.range(-9., 9.), rng.range(-9., 9.));
        pieces.push(format!("M{x:.1} {y:.1}L{:.1} {:.1}", x + dx, y + dy));
    }
    // Fisher–Yates.
    for i in (1..pieces.len()).rev() {
        let j = rng.below(i as u32 + 1) as usize;
        pieces.swap(i, j);
    }
    svg.push_str(&format!(
        r##"<path d="{}" stroke="#{:06x}" stroke-width="2.6" fill="none" stroke-linecap="round"/>"##,
        pieces.concat(),
        rng.below(0x404040)
    ));
    for _ in 0..40 {
        svg.push_str(&format!(
            r##"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="#{:06x}"/>"##,
            rng.range(0., W),
            rng.range(0., H),
            rng.range(0.5, 1.5),
            0x606060 + rng.below(0x606060)
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn answer_hash(id: &str, answer: &str) -> String {
    sha256_hex(&[b"captcha", id.as_bytes(), answer.trim().to_uppercase().as_bytes()])
}

/// Captchas one address (an IPv6 /64) may ask for in a minute: each is a row.
pub const PER_ADDRESS_PER_MINUTE: i32 = 120;

/// A new captcha: its id, its picture, and its answer (for the test-only echo).
pub async fn new(
    db: &impl ConnectionTrait,
    meta: &super::ClientMeta,
    now: DateTime<Utc>,
) -> Result<(String, String, String), AppError> {
    if !super::throttle::take(db, &meta.address_key("captcha"), PER_ADDRESS_PER_MINUTE, Duration::minutes(1), now)
        .await?
    {
        return Err(ErrorCode::RateLimited.into());
    }
    let mut rng = Rng::new()?;
    let answer: String = (0..LENGTH).map(|_| ALPHABET[rng.below(ALPHABET.len() as u32) as usize] as char).collect();
    let id = new_id();
    let svg = draw(&answer, &mut rng);
    captcha::Entity::insert(captcha::ActiveModel {
        id: Set(id.clone()),
        answer_hash: Set(answer_hash(&id, &answer)),
        expires_at: Set(now + TTL),
    })
    .exec(db)
    .await?;
    // Old captchas nobody answered.
    exec(db, "DELETE FROM captcha WHERE expires_at < $1", vec![now.into()]).await?;
    Ok((id, svg, answer))
}

/// Checks an answer. A captcha answers once, right or wrong.
pub async fn check(db: &impl ConnectionTrait, id: &str, answer: &str, now: DateTime<Utc>) -> Result<(), AppError> {
    let Some(row) = captcha::Entity::find_by_id(id.to_owned()).one(db).await? else {
        return Err(ErrorCode::CaptchaInvalid.into());
    };
    let taken = exec(db, "DELETE FROM captcha WHERE id = $1", vec![id.into()]).await?.rows_affected() == 1;
    if taken && row.expires_at > now && super::same(&row.answer_hash, &answer_hash(id, answer)) {
        Ok(())
    } else {
        Err(ErrorCode::CaptchaInvalid.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_has_strokes_and_the_picture_has_no_text() {
        for &c in ALPHABET {
            assert!(!glyph(c).is_empty(), "{}", c as char);
        }
        let mut rng = Rng::new().unwrap();
        let svg = draw("2AKW8", &mut rng);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<text") && !svg.contains("2AKW8"));
        // All character strokes sit in one path, behind 4 noise curves.
        assert_eq!(svg.matches("<path").count(), 5);
        assert_eq!(answer_hash("x", " 2akw8 "), answer_hash("x", "2AKW8"));
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new().unwrap();
        let mut seen = [0u32; 22];
        for _ in 0..5000 {
            seen[rng.below(22) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 100), "{seen:?}");
    }
}
