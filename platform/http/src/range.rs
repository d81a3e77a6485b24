//! One byte range from a `Range` header (RFC 9110 §14.1.2): enough for a player to seek.
//!
//! Only a single `bytes=` range is honoured; several ranges, another unit or a malformed value
//! are ignored and the whole body is sent, which the RFC allows.

use std::ops::Range;

/// What to send for a `Range` header against a body of known size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranged {
    /// No usable range: the whole body, 200.
    Whole,
    /// These bytes (half-open, never empty, within the body), 206.
    Part(Range<u64>),
    /// A well-formed range that selects nothing of the body, 416.
    Unsatisfiable,
}

/// Resolves `header` against a body of `size` bytes.
pub fn resolve(header: &str, size: u64) -> Ranged {
    let header = header.trim();
    let Some(spec) = header
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .and_then(|_| header.get(6..))
        .map(str::trim)
    else {
        return Ranged::Whole;
    };
    if spec.contains(',') {
        return Ranged::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ranged::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // `-n`: the last n bytes, or all of them when the body is shorter.
        return match position(last) {
            None => Ranged::Whole,
            Some(0) => Ranged::Unsatisfiable,
            Some(_) if size == 0 => Ranged::Unsatisfiable,
            Some(n) => Ranged::Part(size - n.min(size)..size),
        };
    }
    let Some(start) = position(first) else {
        return Ranged::Whole;
    };
    let end = if last.is_empty() {
        size
    } else {
        match position(last) {
            Some(last) if last >= start => last.saturating_add(1).min(size),
            // `5-2` or garbage is not a range at all: ignored.
            _ => return Ranged::Whole,
        }
    };
    if start >= size {
        Ranged::Unsatisfiable
    } else {
        Ranged::Part(start..end)
    }
}

/// A byte position: ASCII digits only; a number past `u64` is as far as can be.
fn position(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges_select_their_bytes() {
        assert_eq!(resolve("bytes=0-99", 1000), Ranged::Part(0..100));
        assert_eq!(resolve("bytes=10-10", 1000), Ranged::Part(10..11));
        assert_eq!(resolve("Bytes= 500- ", 1000), Ranged::Part(500..1000));
        assert_eq!(resolve("bytes=-100", 1000), Ranged::Part(900..1000));
        // Past the end: cut at the end.
        assert_eq!(resolve("bytes=900-5000", 1000), Ranged::Part(900..1000));
        assert_eq!(
            resolve("bytes=0-99999999999999999999999", 10),
            Ranged::Part(0..10)
        );
        assert_eq!(resolve("bytes=-5000", 1000), Ranged::Part(0..1000));
    }

    #[test]
    fn ranges_outside_the_body_are_unsatisfiable() {
        assert_eq!(resolve("bytes=1000-", 1000), Ranged::Unsatisfiable);
        assert_eq!(resolve("bytes=1000-2000", 1000), Ranged::Unsatisfiable);
        assert_eq!(resolve("bytes=-0", 1000), Ranged::Unsatisfiable);
        assert_eq!(resolve("bytes=0-", 0), Ranged::Unsatisfiable);
        assert_eq!(resolve("bytes=-1", 0), Ranged::Unsatisfiable);
        assert_eq!(
            resolve("bytes=99999999999999999999999-", 10),
            Ranged::Unsatisfiable
        );
    }

    #[test]
    fn anything_else_gets_the_whole_body() {
        for header in [
            "",
            "bytes=",
            "bytes=-",
            "bytes=5-2",
            "bytes=a-b",
            "bytes=0-1,5-6",
            "bytes=+1-2",
            "bytes=1",
            "items=0-1",
            "byte=0-1",
            "bytes 0-1",
            "bytes=0x1-2",
            "bytés=0-1",
        ] {
            assert_eq!(resolve(header, 1000), Ranged::Whole, "{header}");
        }
    }
}
