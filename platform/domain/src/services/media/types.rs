//! Which media types a lesson asset may have, and how a browser is allowed to show each.
//!
//! Assets are served back from an origin a browser trusts, so a type the browser would run as
//! a document (HTML, SVG, XML, scripts) must never be stored: every lesson kind accepts only
//! the few types it needs, matched on the parsed essence (`type/subtype`, lower case, without
//! parameters). The list is documented in `docs/SECURITY.md`; keep both in step.

use crate::error::{AppError, AppResult};
use crate::services::catalog::LessonKind;

/// What a type is, which decides the lesson kinds that take it and how it is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Video,
    Audio,
    /// Raster images only: SVG is a document that can carry script.
    Image,
    Pdf,
    /// `text/plain`.
    PlainText,
    /// CSV and Markdown: text for download.
    TextData,
    Archive,
    /// E-books and office documents.
    Document,
    /// `application/octet-stream`: bytes of no stated kind.
    Binary,
}

/// `(essence, file extension, family)` of every type an asset may have.
const KNOWN: &[(&str, &str, Family)] = &[
    ("video/mp4", "mp4", Family::Video),
    ("video/webm", "webm", Family::Video),
    ("video/ogg", "ogv", Family::Video),
    ("video/quicktime", "mov", Family::Video),
    ("video/mp2t", "ts", Family::Video),
    ("audio/mpeg", "mp3", Family::Audio),
    ("audio/mp4", "m4a", Family::Audio),
    ("audio/aac", "aac", Family::Audio),
    ("audio/ogg", "ogg", Family::Audio),
    ("audio/webm", "weba", Family::Audio),
    ("audio/wav", "wav", Family::Audio),
    ("audio/flac", "flac", Family::Audio),
    ("image/png", "png", Family::Image),
    ("image/jpeg", "jpg", Family::Image),
    ("image/gif", "gif", Family::Image),
    ("image/webp", "webp", Family::Image),
    ("image/avif", "avif", Family::Image),
    ("application/pdf", "pdf", Family::Pdf),
    ("text/plain", "txt", Family::PlainText),
    ("text/csv", "csv", Family::TextData),
    ("text/markdown", "md", Family::TextData),
    ("application/zip", "zip", Family::Archive),
    ("application/gzip", "gz", Family::Archive),
    ("application/x-tar", "tar", Family::Archive),
    ("application/x-7z-compressed", "7z", Family::Archive),
    ("application/epub+zip", "epub", Family::Document),
    ("application/msword", "doc", Family::Document),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        Family::Document,
    ),
    ("application/vnd.ms-excel", "xls", Family::Document),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        Family::Document,
    ),
    ("application/vnd.ms-powerpoint", "ppt", Family::Document),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
        Family::Document,
    ),
    (
        "application/vnd.oasis.opendocument.text",
        "odt",
        Family::Document,
    ),
    (
        "application/vnd.oasis.opendocument.spreadsheet",
        "ods",
        Family::Document,
    ),
    (
        "application/vnd.oasis.opendocument.presentation",
        "odp",
        Family::Document,
    ),
    ("application/octet-stream", "bin", Family::Binary),
];

/// The media type of a lesson asset: one of the allowed essences, never anything a browser
/// runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetType {
    essence: &'static str,
    extension: &'static str,
    family: Family,
}

impl AssetType {
    /// The allowed type a `Content-Type` value names, whatever its case and parameters;
    /// `None` for anything not on the list or not a media type at all.
    pub fn parse(raw: &str) -> Option<Self> {
        let parsed: mime::Mime = raw.trim().parse().ok()?;
        let essence = parsed.essence_str().to_ascii_lowercase();
        KNOWN
            .iter()
            .find(|(known, _, _)| *known == essence)
            .map(|&(essence, extension, family)| Self {
                essence,
                extension,
                family,
            })
    }

    /// The type of an upload to a lesson of `kind`, refused (422 on `content_type`) unless
    /// that kind takes it.
    pub fn for_lesson(kind: LessonKind, raw: Option<&str>) -> AppResult<Self> {
        let refused = || {
            AppError::invalid(
                "content_type",
                format!(
                    "a {kind} lesson takes only {}",
                    match kind {
                        LessonKind::Video => "video and audio",
                        LessonKind::Text => "raster images, PDF and plain text",
                        LessonKind::File =>
                            "video, audio, raster images, PDF, plain text, CSV, Markdown, \
                             archives, e-books, office documents and application/octet-stream",
                    }
                ),
            )
        };
        let raw = raw.filter(|r| !r.trim().is_empty()).ok_or_else(refused)?;
        let ty = Self::parse(raw).ok_or_else(refused)?;
        ty.fits(kind).then_some(ty).ok_or_else(refused)
    }

    fn fits(self, kind: LessonKind) -> bool {
        match kind {
            LessonKind::Video => matches!(self.family, Family::Video | Family::Audio),
            LessonKind::Text => {
                matches!(self.family, Family::Image | Family::Pdf | Family::PlainText)
            }
            LessonKind::File => true,
        }
    }

    /// `type/subtype`, lower case: what is stored and served.
    pub fn essence(self) -> &'static str {
        self.essence
    }

    /// A file extension for download names, without the dot.
    pub fn extension(self) -> &'static str {
        self.extension
    }

    /// A video (not audio): what is transcoded into HLS renditions.
    pub fn is_video(self) -> bool {
        matches!(self.family, Family::Video)
    }

    /// Whether a browser may show it in the page (media it plays or draws, never a document);
    /// everything else is served as a download.
    pub fn shown_inline(self) -> bool {
        matches!(self.family, Family::Video | Family::Audio | Family::Image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_matched_on_their_essence() {
        let mp4 = AssetType::parse("Video/MP4; codecs=\"avc1.42E01E\"").unwrap();
        assert_eq!(mp4.essence(), "video/mp4");
        assert_eq!(
            AssetType::parse("text/plain;charset=utf-8")
                .unwrap()
                .essence(),
            "text/plain"
        );
        assert!(mp4.shown_inline());
        assert!(!AssetType::parse("application/pdf").unwrap().shown_inline());
    }

    #[test]
    fn documents_a_browser_runs_are_never_allowed() {
        for raw in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "image/svg+xml",
            "application/xhtml+xml",
            "text/xml",
            "application/xml",
            "application/javascript",
            "text/javascript",
            "multipart/form-data; boundary=x",
            "video",
            "",
            "*/*",
        ] {
            assert_eq!(AssetType::parse(raw), None, "{raw}");
            for kind in [LessonKind::Video, LessonKind::Text, LessonKind::File] {
                assert!(AssetType::for_lesson(kind, Some(raw)).is_err(), "{raw}");
            }
        }
        assert!(AssetType::for_lesson(LessonKind::File, None).is_err());
    }

    #[test]
    fn each_kind_takes_what_it_needs() {
        let takes = |kind, raw| AssetType::for_lesson(kind, Some(raw)).is_ok();
        assert!(takes(LessonKind::Video, "video/webm"));
        assert!(takes(LessonKind::Video, "audio/mpeg"));
        assert!(!takes(LessonKind::Video, "application/pdf"));
        assert!(takes(LessonKind::Text, "image/png"));
        assert!(takes(LessonKind::Text, "text/plain"));
        assert!(!takes(LessonKind::Text, "video/mp4"));
        assert!(!takes(LessonKind::Text, "application/zip"));
        assert!(takes(LessonKind::File, "application/zip"));
        assert!(takes(LessonKind::File, "application/octet-stream"));
        assert!(takes(LessonKind::File, "video/mp4"));
    }

    #[test]
    fn every_known_type_parses_to_itself() {
        for (essence, extension, _) in KNOWN {
            let ty = AssetType::parse(essence).unwrap();
            assert_eq!((ty.essence(), ty.extension()), (*essence, *extension));
            assert_eq!(essence.to_ascii_lowercase(), *essence);
        }
    }
}
