//! Course-completion certificates rendered as a one-page PDF (A4 landscape).
//!
//! This module owns the certificate's layout (header band in the tenant's
//! brand colour, the certifying text, footer with date, issuer, verification
//! code and URL, and a QR code of that URL), and the embedding of the bundled
//! `DejaVu Sans` fonts. Fonts are subset to the glyphs actually used and carry a
//! `ToUnicode` map, so Cyrillic and accented Latin names render correctly and
//! stay searchable and copyable. It performs no I/O: callers pass
//! already-formatted strings and receive the PDF bytes.
//!
//! The fonts live in `assets/fonts/` next to the crate's `Cargo.toml`
//! (see `LICENSE-DejaVu.txt` there for their licence).

use std::collections::BTreeMap;

use pdf_writer::types::{
    ActionType, AnnotationType, CidFontType, FontFlags, SystemInfo, UnicodeCmap,
};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use qrcode::{Color, EcLevel, QrCode};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

/// `DejaVu Sans`, used for running text.
static REGULAR_TTF: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));
/// `DejaVu Sans Bold`, used for headings, the student's name and the course.
static BOLD_TTF: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans-Bold.ttf"
));

/// A4 landscape, in PDF points.
const PAGE_W: f32 = 841.89;
const PAGE_H: f32 = 595.28;
const MARGIN: f32 = 64.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const HEADER_H: f32 = 96.0;
const FOOTER_BAND_H: f32 = 10.0;
const QR_SIZE: f32 = 112.0;
const QR_X: f32 = PAGE_W - MARGIN - QR_SIZE;
const QR_Y: f32 = 36.0;
/// Width available to footer text, keeping clear of the QR code's quiet zone.
const FOOTER_TEXT_W: f32 = QR_X - MARGIN - 32.0;
/// Top and bottom of the box the course title must fit into.
const COURSE_TOP: f32 = 290.0;
const COURSE_BOTTOM: f32 = 176.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.25;
/// Used when the tenant has not configured a brand colour (deep indigo).
const DEFAULT_BRAND: [u8; 3] = [0x2B, 0x3A, 0x8C];
const ELLIPSIS: char = '…';

const REGULAR_RES: Name<'static> = Name(b"F1");
const BOLD_RES: Name<'static> = Name(b"F2");
const IDENTITY_SYSTEM: SystemInfo<'static> = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// Everything printed on a course-completion certificate.
///
/// All strings are shown as given (runs of whitespace are collapsed); dates
/// must already be formatted for the reader.
#[derive(Debug, Clone, Copy)]
pub struct CertificateDoc<'a> {
    /// The student's full name, any script covered by `DejaVu Sans`
    /// (Latin, Cyrillic, Greek, ...).
    pub student: &'a str,
    /// The course title (up to ~200 characters); wrapped and shrunk to fit.
    pub course: &'a str,
    /// The tenant's storefront name, shown in the header band as issuer.
    pub storefront: &'a str,
    /// The tenant's brand colour (sRGB) for the header band and accents;
    /// a deep indigo is used when `None`.
    pub brand_colour: Option<[u8; 3]>,
    /// The issue date, already formatted, e.g. "29 November 2026".
    pub issued_on: &'a str,
    /// The public verification code, e.g. "LYC-7K3M-Q9TX-2B8D".
    pub code: &'a str,
    /// The public verification page; printed as text, linked and encoded as
    /// a QR code.
    pub verify_url: &'a str,
}

/// Why a certificate could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// A bundled font could not be parsed (a corrupted asset).
    #[error("bundled font could not be parsed: {0}")]
    Font(#[from] ttf_parser::FaceParsingError),
    /// A bundled font could not be subset for embedding.
    #[error("bundled font could not be subset: {0}")]
    Subset(#[from] subsetter::Error),
    /// The verification URL does not fit in a QR code (far too long).
    #[error("verification URL cannot be encoded as a QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
}

/// Renders `doc` as a one-page A4 landscape PDF and returns its bytes.
///
/// # Errors
/// [`PdfError::Qr`] if `verify_url` is too long for a QR code; the other
/// variants only if the bundled font assets are broken.
pub fn render(doc: &CertificateDoc<'_>) -> Result<Vec<u8>, PdfError> {
    let qr = QrCode::with_error_correction_level(doc.verify_url.as_bytes(), EcLevel::M)?;
    let palette = Palette::new(doc.brand_colour.unwrap_or(DEFAULT_BRAND));
    let mut canvas = Canvas::new()?;
    draw_bands(&mut canvas, &palette);
    draw_header(&mut canvas, &palette, doc);
    draw_body(&mut canvas, &palette, doc);
    let link = draw_footer(&mut canvas, &palette, doc);
    draw_qr(&mut canvas.content, &qr, palette.ink);
    assemble(canvas, doc, link)
}

// ---------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------

/// The header band across the top and a thin accent band along the bottom.
fn draw_bands(canvas: &mut Canvas, palette: &Palette) {
    canvas.fill_rect(
        palette.brand,
        Rect::new(0.0, PAGE_H - HEADER_H, PAGE_W, PAGE_H),
    );
    canvas.fill_rect(palette.brand, Rect::new(0.0, 0.0, PAGE_W, FOOTER_BAND_H));
}

/// The storefront (issuer) name, centred in the header band.
fn draw_header(canvas: &mut Canvas, palette: &Palette, doc: &CertificateDoc<'_>) {
    let style = Style::bold(30.0, palette.on_brand);
    let (style, text) = canvas.fit_line(style, &clean(doc.storefront), 14.0, CONTENT_W);
    // Cap height of DejaVu Sans is ~0.73 em: centre the capitals in the band.
    let baseline = PAGE_H - HEADER_H / 2.0 - style.size * 0.365;
    canvas.centred(style, baseline, &text);
}

/// Title, the certifying sentence, the student's name and the course.
fn draw_body(canvas: &mut Canvas, palette: &Palette, doc: &CertificateDoc<'_>) {
    canvas.centred(
        Style::bold(34.0, palette.ink),
        432.0,
        "Certificate of completion",
    );
    canvas.fill_rect(
        palette.brand,
        Rect::new(PAGE_W / 2.0 - 48.0, 412.0, PAGE_W / 2.0 + 48.0, 415.0),
    );
    canvas.centred(
        Style::regular(15.0, palette.muted),
        382.0,
        "This certifies that",
    );
    let (name_style, name) = canvas.fit_line(
        Style::bold(40.0, palette.ink),
        &clean(doc.student),
        16.0,
        CONTENT_W,
    );
    canvas.centred(name_style, 336.0, &name);
    canvas.centred(Style::regular(15.0, palette.muted), 302.0, "has completed");
    draw_course(canvas, palette, doc.course);
}

/// The course title, wrapped and shrunk to fit its box.
fn draw_course(canvas: &mut Canvas, palette: &Palette, course: &str) {
    let (style, lines) = canvas.fit_paragraph(
        Style::bold(22.0, palette.brand_ink),
        &clean(course),
        11.0,
        CONTENT_W,
        COURSE_TOP - COURSE_BOTTOM,
    );
    let mut baseline = COURSE_TOP - style.size;
    for line in &lines {
        canvas.centred(style, baseline, line);
        baseline -= style.size * LEADING;
    }
}

/// Date, issuer, verification code and URL; returns the URL's link area.
fn draw_footer(canvas: &mut Canvas, palette: &Palette, doc: &CertificateDoc<'_>) -> Rect {
    let body = Style::regular(12.0, palette.ink);
    let lines = [
        (body, 142.0, format!("Issued on {}", clean(doc.issued_on))),
        (body, 124.0, format!("Issued by {}", clean(doc.storefront))),
        (
            Style::bold(12.0, palette.ink),
            100.0,
            format!("Verification code: {}", clean(doc.code)),
        ),
    ];
    for (style, baseline, text) in lines {
        let (style, text) = canvas.fit_line(style, &text, 7.0, FOOTER_TEXT_W);
        canvas.text(style, MARGIN, baseline, &text);
    }
    let url_style = Style::regular(10.0, palette.brand_ink);
    let (url_style, url) = canvas.fit_line(url_style, doc.verify_url.trim(), 5.0, FOOTER_TEXT_W);
    canvas.text(url_style, MARGIN, 82.0, &url);
    let note = "Scan the QR code or open the address above to verify this certificate.";
    canvas.text(Style::regular(8.0, palette.muted), MARGIN, 64.0, note);
    let url_width = canvas.width(url_style, &url);
    Rect::new(
        MARGIN,
        82.0 - url_style.size * 0.3,
        MARGIN + url_width,
        82.0 + url_style.size,
    )
}

/// Draws the QR code's dark modules as filled rectangles (one per
/// horizontal run) in the bottom-right corner.
fn draw_qr(content: &mut Content, qr: &QrCode, colour: Rgb) {
    let modules = qr.width().max(1);
    let module = QR_SIZE / small_f32(modules);
    content.set_fill_rgb(colour.0, colour.1, colour.2);
    for (row, cells) in qr.to_colors().chunks(modules).enumerate() {
        let y = QR_Y + QR_SIZE - (small_f32(row) + 1.0) * module;
        for (start, len) in dark_runs(cells) {
            content.rect(
                QR_X + small_f32(start) * module,
                y,
                small_f32(len) * module,
                module,
            );
        }
    }
    content.fill_nonzero();
}

/// `(start, length)` of each run of dark modules in one QR row.
fn dark_runs(cells: &[Color]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, cell) in cells.iter().chain([&Color::Light]).enumerate() {
        match (cell, start) {
            (Color::Dark, None) => start = Some(i),
            (Color::Light, Some(s)) => {
                runs.push((s, i - s));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// Converts a count or index that is small by construction (QR modules,
/// lines) to `f32`, saturating instead of losing precision.
fn small_f32(n: usize) -> f32 {
    u16::try_from(n).map_or(f32::from(u16::MAX), f32::from)
}

/// Collapses runs of whitespace (including newlines) into single spaces.
fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------
// Colours
// ---------------------------------------------------------------------------

/// An RGB colour with components in `0.0..=1.0`.
#[derive(Debug, Clone, Copy)]
struct Rgb(f32, f32, f32);

impl Rgb {
    fn from_u8([r, g, b]: [u8; 3]) -> Self {
        Self(
            f32::from(r) / 255.0,
            f32::from(g) / 255.0,
            f32::from(b) / 255.0,
        )
    }

    /// Approximate perceived lightness, `0.0` (black) to `1.0` (white).
    fn lightness(self) -> f32 {
        0.2126 * self.0 + 0.7152 * self.1 + 0.0722 * self.2
    }
}

/// The certificate's colours, derived from the tenant's brand colour.
struct Palette {
    /// Header band and accents.
    brand: Rgb,
    /// Text drawn on the brand colour: white, or ink on light brand colours.
    on_brand: Rgb,
    /// Brand-coloured text on white; falls back to ink if the brand colour is
    /// too light to read.
    brand_ink: Rgb,
    /// Primary text.
    ink: Rgb,
    /// Secondary text.
    muted: Rgb,
}

impl Palette {
    fn new(brand: [u8; 3]) -> Self {
        let ink = Rgb::from_u8([0x1F, 0x23, 0x2B]);
        let brand = Rgb::from_u8(brand);
        let light = brand.lightness() > 0.6;
        Self {
            brand,
            on_brand: if light { ink } else { Rgb(1.0, 1.0, 1.0) },
            brand_ink: if light { ink } else { brand },
            ink,
            muted: Rgb::from_u8([0x5C, 0x63, 0x70]),
        }
    }
}

// ---------------------------------------------------------------------------
// Text on the page
// ---------------------------------------------------------------------------

/// How a run of text is drawn.
#[derive(Debug, Clone, Copy)]
struct Style {
    bold: bool,
    size: f32,
    colour: Rgb,
}

impl Style {
    fn regular(size: f32, colour: Rgb) -> Self {
        Self {
            bold: false,
            size,
            colour,
        }
    }

    fn bold(size: f32, colour: Rgb) -> Self {
        Self {
            bold: true,
            size,
            colour,
        }
    }

    fn sized(self, size: f32) -> Self {
        Self { size, ..self }
    }
}

/// The page's content stream plus the two fonts it draws with.
struct Canvas {
    content: Content,
    regular: Font,
    bold: Font,
}

impl Canvas {
    fn new() -> Result<Self, PdfError> {
        Ok(Self {
            content: Content::new(),
            regular: Font::load(REGULAR_TTF, "DejaVuSans")?,
            bold: Font::load(BOLD_TTF, "DejaVuSans-Bold")?,
        })
    }

    fn font(&self, style: Style) -> &Font {
        if style.bold {
            &self.bold
        } else {
            &self.regular
        }
    }

    /// Width of `text` in points.
    fn width(&self, style: Style, text: &str) -> f32 {
        self.font(style).width(text) * style.size
    }

    fn fill_rect(&mut self, colour: Rgb, rect: Rect) {
        self.content
            .set_fill_rgb(colour.0, colour.1, colour.2)
            .rect(rect.x1, rect.y1, rect.x2 - rect.x1, rect.y2 - rect.y1)
            .fill_nonzero();
    }

    /// Draws one line of text with its baseline starting at `(x, y)`.
    fn text(&mut self, style: Style, x: f32, y: f32, text: &str) {
        let (font, resource) = if style.bold {
            (&mut self.bold, BOLD_RES)
        } else {
            (&mut self.regular, REGULAR_RES)
        };
        let encoded = font.encode(text);
        let colour = style.colour;
        self.content.set_fill_rgb(colour.0, colour.1, colour.2);
        self.content
            .begin_text()
            .set_font(resource, style.size)
            .next_line(x, y)
            .show(Str(&encoded))
            .end_text();
    }

    /// Draws one line of text centred horizontally on the page.
    fn centred(&mut self, style: Style, y: f32, text: &str) {
        let x = (PAGE_W - self.width(style, text)) / 2.0;
        self.text(style, x, y, text);
    }

    /// Shrinks `style` (not below `min_size`) so `text` fits `max_width` on
    /// one line, shortening the text with an ellipsis if even that fails.
    fn fit_line(&self, style: Style, text: &str, min_size: f32, max_width: f32) -> (Style, String) {
        let unit_width = self.width(style.sized(1.0), text);
        let size = if unit_width > 0.0 {
            (max_width / unit_width).clamp(min_size, style.size)
        } else {
            style.size
        };
        let style = style.sized(size);
        (style, self.ellipsize(style, text, max_width, false))
    }

    /// Finds the largest size (down to `min_size`, in half points) at which
    /// `text` wraps into lines that fit `max_height`; at `min_size` the
    /// lines that do not fit are dropped and the last kept one ellipsized.
    fn fit_paragraph(
        &self,
        style: Style,
        text: &str,
        min_size: f32,
        max_width: f32,
        max_height: f32,
    ) -> (Style, Vec<String>) {
        let mut style = style;
        loop {
            let lines = self.wrap(style, text, max_width);
            if paragraph_height(lines.len(), style.size) <= max_height {
                return (style, lines);
            }
            if style.size - 0.5 < min_size {
                return (
                    style,
                    self.truncate_lines(style, lines, max_width, max_height),
                );
            }
            style = style.sized(style.size - 0.5);
        }
    }

    /// Keeps the lines that fit `max_height`, marking the cut with an ellipsis.
    fn truncate_lines(
        &self,
        style: Style,
        mut lines: Vec<String>,
        max_width: f32,
        max_height: f32,
    ) -> Vec<String> {
        let mut keep = lines.len();
        while keep > 1 && paragraph_height(keep, style.size) > max_height {
            keep -= 1;
        }
        lines.truncate(keep);
        if let Some(last) = lines.pop() {
            lines.push(self.ellipsize(style, &last, max_width, true));
        }
        lines
    }

    /// Greedy word wrap; words wider than a line are broken between characters.
    fn wrap(&self, style: Style, text: &str, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(style, &candidate) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            line = self.break_word(style, word, max_width, &mut lines);
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Splits `word` into full-width pieces pushed onto `lines`; returns the
    /// remainder, which starts the next line.
    fn break_word(
        &self,
        style: Style,
        word: &str,
        max_width: f32,
        lines: &mut Vec<String>,
    ) -> String {
        let mut piece = String::new();
        for c in word.chars() {
            piece.push(c);
            if piece.chars().count() > 1 && self.width(style, &piece) > max_width {
                piece.pop();
                lines.push(std::mem::replace(&mut piece, c.to_string()));
            }
        }
        piece
    }

    /// Returns `text` if it fits `max_width` (and `force` is false); otherwise
    /// drops trailing characters until it fits with an ellipsis appended.
    fn ellipsize(&self, style: Style, text: &str, max_width: f32, force: bool) -> String {
        if !force && self.width(style, text) <= max_width {
            return text.to_owned();
        }
        let mut kept = text.trim_end().to_owned();
        while !kept.is_empty() && self.width(style, &format!("{kept}{ELLIPSIS}")) > max_width {
            kept.pop();
            kept.truncate(kept.trim_end().len());
        }
        format!("{kept}{ELLIPSIS}")
    }
}

/// Height of `lines` lines of text at `size`, from the first line's top to
/// the last line's baseline.
fn paragraph_height(lines: usize, size: f32) -> f32 {
    let extra = small_f32(lines.saturating_sub(1));
    size + extra * size * LEADING
}

// ---------------------------------------------------------------------------
// Fonts
// ---------------------------------------------------------------------------

/// A TrueType font being embedded as a subset `Type0`/`CIDFontType2` font.
///
/// Text is encoded as 2-byte CIDs which are the glyph ids in the subset
/// (`CIDToGIDMap /Identity`), as the `subsetter` crate requires.
struct Font {
    face: Face<'static>,
    data: &'static [u8],
    postscript_name: &'static str,
    /// Original glyph id -> glyph id in the subset (= CID).
    remapper: GlyphRemapper,
    /// The character each used CID was produced from, for `ToUnicode`.
    unicode: BTreeMap<u16, char>,
}

impl Font {
    fn load(data: &'static [u8], postscript_name: &'static str) -> Result<Self, PdfError> {
        Ok(Self {
            face: Face::parse(data, 0)?,
            data,
            postscript_name,
            remapper: GlyphRemapper::new(),
            unicode: BTreeMap::new(),
        })
    }

    /// Glyph for `c`, or `.notdef` when the font lacks it.
    fn glyph(&self, c: char) -> GlyphId {
        self.face.glyph_index(c).unwrap_or(GlyphId(0))
    }

    /// Advance width of `glyph` in em units.
    fn advance(&self, glyph: GlyphId) -> f32 {
        let units = self.face.glyph_hor_advance(glyph).unwrap_or(0);
        f32::from(units) / f32::from(self.face.units_per_em())
    }

    /// Width of `text` at a size of 1 pt (no kerning).
    fn width(&self, text: &str) -> f32 {
        text.chars().map(|c| self.advance(self.glyph(c))).sum()
    }

    /// Encodes `text` as big-endian CIDs, recording the glyphs it uses.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let glyph = self.glyph(c);
            let cid = self.remapper.remap(glyph.0);
            if glyph.0 != 0 {
                self.unicode.entry(cid).or_insert(c);
            }
            bytes.extend_from_slice(&cid.to_be_bytes());
        }
        bytes
    }

    /// Scales font units to PDF glyph space (1/1000 em).
    fn to_pdf_units(&self, units: impl Into<f32>) -> f32 {
        units.into() * 1000.0 / f32::from(self.face.units_per_em())
    }

    /// `XXXXXX+Name`: a subset tag derived from the glyph set, as PDF
    /// requires for subset fonts.
    fn base_font(&self) -> String {
        let mut hash: u32 = 0x811C_9DC5;
        for glyph in self.remapper.remapped_gids() {
            for byte in glyph.to_be_bytes() {
                hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
            }
        }
        let tag: String = (0..6)
            .map(|_| {
                let letter = char::from(b'A' + (hash % 26) as u8);
                hash /= 26;
                letter
            })
            .collect();
        format!("{tag}+{}", self.postscript_name)
    }

    /// Writes the font's objects; `id` is the `Type0` font the page refers to.
    fn write(&self, pdf: &mut Pdf, refs: &mut RefAlloc, id: Ref) -> Result<(), PdfError> {
        let (cid_id, descriptor_id, file_id, cmap_id) =
            (refs.next(), refs.next(), refs.next(), refs.next());
        let base_font = self.base_font();
        let base_font = Name(base_font.as_bytes());

        pdf.type0_font(id)
            .base_font(base_font)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_id)
            .to_unicode(cmap_id);

        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(base_font)
            .system_info(IDENTITY_SYSTEM)
            .font_descriptor(descriptor_id)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, self.cid_widths());
        cid.finish();

        self.write_descriptor(pdf, descriptor_id, base_font, file_id);

        let subset = subsetter::subset(self.data, 0, &self.remapper)?;
        let length = i32::try_from(subset.len()).unwrap_or(i32::MAX);
        pdf.stream(file_id, &deflate(&subset))
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), length);

        pdf.cmap(cmap_id, &deflate(&self.to_unicode()))
            .filter(Filter::FlateDecode);
        Ok(())
    }

    /// Advance widths of the subset's glyphs, indexed by CID.
    fn cid_widths(&self) -> Vec<f32> {
        self.remapper
            .remapped_gids()
            .map(|glyph| self.advance(GlyphId(glyph)) * 1000.0)
            .collect()
    }

    fn write_descriptor(&self, pdf: &mut Pdf, id: Ref, base_font: Name<'_>, file_id: Ref) {
        let face = &self.face;
        let bbox = face.global_bounding_box();
        let weight = face.weight().to_number();
        pdf.font_descriptor(id)
            .name(base_font)
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                self.to_pdf_units(bbox.x_min),
                self.to_pdf_units(bbox.y_min),
                self.to_pdf_units(bbox.x_max),
                self.to_pdf_units(bbox.y_max),
            ))
            .italic_angle(0.0)
            .ascent(self.to_pdf_units(face.ascender()))
            .descent(self.to_pdf_units(face.descender()))
            .cap_height(self.to_pdf_units(face.capital_height().unwrap_or(face.ascender())))
            .stem_v(10.0 + 0.244 * (f32::from(weight) - 50.0))
            .font_file2(file_id);
    }

    /// The `ToUnicode` `CMap` mapping each used CID back to its character.
    fn to_unicode(&self) -> Vec<u8> {
        let mut cmap = UnicodeCmap::new(Name(b"Custom"), IDENTITY_SYSTEM);
        for (&cid, &c) in &self.unicode {
            cmap.pair(cid, c);
        }
        cmap.finish().into_vec()
    }
}

// ---------------------------------------------------------------------------
// Document assembly
// ---------------------------------------------------------------------------

/// Hands out consecutive indirect object ids.
#[derive(Debug, Default)]
struct RefAlloc(i32);

impl RefAlloc {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}

/// Writes the catalog, page, link, fonts and metadata around the drawn page.
fn assemble(canvas: Canvas, doc: &CertificateDoc<'_>, link: Rect) -> Result<Vec<u8>, PdfError> {
    let mut refs = RefAlloc::default();
    let (catalog_id, tree_id, page_id, content_id) =
        (refs.next(), refs.next(), refs.next(), refs.next());
    let (regular_id, bold_id, link_id, info_id) =
        (refs.next(), refs.next(), refs.next(), refs.next());

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id).kids([page_id]).count(1);

    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
        .parent(tree_id)
        .contents(content_id)
        .annotations([link_id]);
    page.resources()
        .fonts()
        .pair(REGULAR_RES, regular_id)
        .pair(BOLD_RES, bold_id);
    page.finish();

    write_link(&mut pdf, link_id, link, doc.verify_url);
    pdf.stream(content_id, &deflate(&canvas.content.finish()))
        .filter(Filter::FlateDecode);
    canvas.regular.write(&mut pdf, &mut refs, regular_id)?;
    canvas.bold.write(&mut pdf, &mut refs, bold_id)?;

    let title = format!("Certificate of completion — {}", clean(doc.student));
    pdf.document_info(info_id)
        .title(TextStr(&title))
        .author(TextStr(&clean(doc.storefront)))
        .creator(TextStr("Lyceum"));
    Ok(pdf.finish())
}

/// A clickable area over the printed verification URL.
fn write_link(pdf: &mut Pdf, id: Ref, area: Rect, url: &str) {
    let mut annotation = pdf.annotation(id);
    annotation
        .subtype(AnnotationType::Link)
        .rect(area)
        .border(0.0, 0.0, 0.0, None);
    annotation
        .action()
        .action_type(ActionType::Uri)
        .uri(Str(url.trim().as_bytes()));
}

/// zlib-compresses a stream for `/FlateDecode`.
fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    const COURSE_200: &str = "Advanced Distributed Systems Engineering: designing, building and \
        operating fault-tolerant, observable and secure cloud-native platforms at scale with \
        Rust, Kubernetes, Kafka, PostgreSQL and Terraform";

    fn cyrillic_doc() -> CertificateDoc<'static> {
        CertificateDoc {
            student: "Анна Петрова",
            course: COURSE_200,
            storefront: "Академия Северного Ветра",
            brand_colour: Some([0x0B, 0x6E, 0x4F]),
            issued_on: "29 November 2026",
            code: "LYC-7K3M-Q9TX-2B8D",
            verify_url: "https://lyceum.example/certificates/LYC-7K3M-Q9TX-2B8D",
        }
    }

    /// A per-test scratch directory; kept when `CERTPDF_KEEP` is set so the
    /// rendered files can be inspected by eye.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join("lyceum-certpdf")
                .join(format!("{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn write_pdf(&self, bytes: &[u8]) -> PathBuf {
            let path = self.0.join("certificate.pdf");
            std::fs::write(&path, bytes).unwrap();
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            if std::env::var_os("CERTPDF_KEEP").is_some() {
                eprintln!("kept test artefacts in {}", self.0.display());
            } else {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    /// Whether an external tool can be started; complains loudly if not.
    fn have_tool(tool: &str, probe_arg: &str) -> bool {
        let found = Command::new(tool).arg(probe_arg).output().is_ok();
        if !found {
            eprintln!("!!!!! `{tool}` not found: SKIPPING this check (install it to run it) !!!!!");
        }
        found
    }

    fn run(cmd: &mut Command) -> String {
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Rasterises the page to `<dir>/page.png` at `dpi`.
    fn to_png(pdf: &Path, dpi: u32) -> PathBuf {
        let prefix = pdf.with_file_name(format!("page-{dpi}"));
        run(Command::new("pdftoppm")
            .args(["-png", "-singlefile", "-r", &dpi.to_string()])
            .arg(pdf)
            .arg(&prefix));
        let png = prefix.with_extension("png");
        assert!(std::fs::metadata(&png).unwrap().len() > 1000, "empty PNG");
        png
    }

    fn pdf_text(pdf: &Path) -> String {
        run(Command::new("pdftotext").arg(pdf).arg("-"))
    }

    /// Asserts every word `pdftotext -bbox` finds lies inside the page.
    fn assert_inside_page(pdf: &Path) {
        let html = run(Command::new("pdftotext").arg("-bbox").arg(pdf).arg("-"));
        let words: Vec<&str> = html.lines().filter(|l| l.contains("<word ")).collect();
        assert!(!words.is_empty());
        for word in words {
            for (key, limit) in [
                ("xMin", PAGE_W),
                ("xMax", PAGE_W),
                ("yMin", PAGE_H),
                ("yMax", PAGE_H),
            ] {
                let value: f32 = word
                    .split(&format!("{key}=\""))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(
                    (0.0..=limit).contains(&value),
                    "{key}={value} outside page: {word}"
                );
            }
        }
    }

    #[test]
    fn renders_a_well_formed_small_pdf() {
        assert_eq!(COURSE_200.chars().count(), 200);
        let bytes = render(&cyrillic_doc()).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.trim_ascii_end().ends_with(b"%%EOF"));
        eprintln!("certificate PDF: {} bytes", bytes.len());
        assert!(bytes.len() < 300 * 1024, "PDF is {} bytes", bytes.len());
    }

    #[test]
    fn renders_to_png_with_extractable_cyrillic_text() {
        if !have_tool("pdftoppm", "-v") || !have_tool("pdftotext", "-v") {
            return;
        }
        let doc = cyrillic_doc();
        let scratch = Scratch::new("cyrillic");
        let pdf = scratch.write_pdf(&render(&doc).unwrap());
        to_png(&pdf, 50);

        let text = pdf_text(&pdf);
        for expected in [
            doc.student,
            doc.code,
            doc.storefront,
            doc.issued_on,
            doc.verify_url,
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
        assert!(text.contains("Certificate of completion"));
        for word in COURSE_200.split_whitespace() {
            assert!(
                text.contains(word),
                "course word {word:?} missing from:\n{text}"
            );
        }
        assert_inside_page(&pdf);
    }

    #[test]
    fn qr_code_decodes_to_verify_url() {
        if !have_tool("pdftoppm", "-v") || !have_tool("zbarimg", "--version") {
            return;
        }
        let doc = cyrillic_doc();
        let scratch = Scratch::new("qr");
        let png = to_png(&scratch.write_pdf(&render(&doc).unwrap()), 150);
        let decoded = run(Command::new("zbarimg").args(["--quiet", "--raw"]).arg(&png));
        assert_eq!(decoded.trim_end(), doc.verify_url);
    }

    #[test]
    fn latin_accents_render_with_default_colour() {
        if !have_tool("pdftotext", "-v") {
            return;
        }
        let doc = CertificateDoc {
            student: "Zoë O'Brien",
            course: "Intro to Rust",
            brand_colour: None,
            ..cyrillic_doc()
        };
        let scratch = Scratch::new("latin");
        let pdf = scratch.write_pdf(&render(&doc).unwrap());
        let text = pdf_text(&pdf);
        assert!(text.contains("Zoë O'Brien"), "{text}");
        assert!(text.contains("Intro to Rust"), "{text}");
    }

    #[test]
    fn oversized_inputs_stay_on_the_page() {
        let name = "Ж".repeat(120);
        let course = format!(
            "{}{}",
            "Unbreakable".repeat(60),
            " very long course title".repeat(40)
        );
        let storefront = "Storefront ".repeat(20);
        let doc = CertificateDoc {
            student: &name,
            course: &course,
            storefront: &storefront,
            brand_colour: Some([0xFF, 0xE0, 0x66]),
            ..cyrillic_doc()
        };
        let bytes = render(&doc).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        if !have_tool("pdftotext", "-v") || !have_tool("pdftoppm", "-v") {
            return;
        }
        let scratch = Scratch::new("oversized");
        let pdf = scratch.write_pdf(&bytes);
        to_png(&pdf, 50);
        assert_inside_page(&pdf);
        assert!(pdf_text(&pdf).contains(ELLIPSIS));
    }

    #[test]
    fn url_too_long_for_a_qr_code_is_an_error() {
        let url = format!("https://lyceum.example/{}", "x".repeat(5000));
        let doc = CertificateDoc {
            verify_url: &url,
            ..cyrillic_doc()
        };
        assert!(matches!(render(&doc), Err(PdfError::Qr(_))));
    }

    #[test]
    fn dark_runs_merge_adjacent_modules() {
        use Color::{Dark as D, Light as L};
        assert_eq!(
            dark_runs(&[D, D, L, D, L, L, D, D, D]),
            vec![(0, 2), (3, 1), (6, 3)]
        );
        assert!(dark_runs(&[L, L]).is_empty());
    }

    #[test]
    fn light_brand_colours_get_dark_text() {
        let palette = Palette::new([0xFF, 0xE0, 0x66]);
        assert!(palette.on_brand.lightness() < 0.2);
        let palette = Palette::new(DEFAULT_BRAND);
        assert!(palette.on_brand.lightness() > 0.9);
    }

    #[test]
    fn wrapping_breaks_overlong_words() {
        let canvas = Canvas::new().unwrap();
        let style = Style::bold(22.0, Rgb(0.0, 0.0, 0.0));
        let lines = canvas.wrap(style, &"W".repeat(200), 300.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| canvas.width(style, l) <= 300.0));
        assert_eq!(lines.concat(), "W".repeat(200));
    }
}
