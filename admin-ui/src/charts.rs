//! Server-side SVG charts for the admin UI.
//!
//! [`bar_chart`] and [`line_chart`] turn a [`Chart`] into a self-contained
//! `<svg>` string that can be embedded directly in a page. The output needs no
//! script and no inline `style` attributes, so it works under a strict
//! Content-Security-Policy:
//!
//! * Responsive: `width="100%"` and a fixed `viewBox="0 0 640 260"`; the height
//!   follows from the aspect ratio.
//! * Accessible: `role="img"` plus `aria-labelledby` pointing at the `<title>`
//!   (and `<desc>`, when a description is given). Element ids are derived from
//!   a stable FNV-1a hash of the chart kind, title, description and data, so
//!   the same input always yields byte-identical output while different charts
//!   on one page get different ids. (Two *identical* charts on one page would
//!   share ids; give them different titles.)
//! * Styleable: elements carry the classes `chart` (root), `chart-grid`,
//!   `chart-axis`, `chart-label`, `chart-bar`, `chart-line` and `chart-dot`.
//!   Defaults are set with presentation attributes, which any CSS rule
//!   overrides. The data series uses `currentColor`, so setting `color` on
//!   `.chart` (e.g. to the accent colour) recolours the bars/line.
//! * Robust: all text from the caller (title, description, labels and the
//!   output of `format_value`) is XML-escaped; NaN and infinite values are
//!   treated as 0; magnitudes are clamped to ±1e200 (and below 1e-200 flushed
//!   to 0) so the axis arithmetic can never overflow. An empty point list
//!   renders a "No data yet" message; all-zero data renders a flat chart with
//!   a 0-based axis.
//!
//! The y axis always includes 0 and has 4–6 "nice" ticks (steps of 1, 2 or 5
//! × 10ⁿ). If `format_value` would render two ticks identically (e.g. an
//! integer formatter and a 0.5 step), a coarser step is chosen. X labels are
//! truncated to 16 characters and thinned to every k-th point so they never
//! overlap; every bar and dot has a `<title>` child ("label: value") that
//! browsers show on hover with the full label.

use std::fmt::{self, Write as _};

/// One data point: an x-axis label and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub label: String,
    pub value: f64,
}

/// Everything needed to draw a chart.
pub struct Chart<'a> {
    /// Accessible name, rendered as the SVG `<title>`.
    pub title: &'a str,
    /// Longer accessible description, rendered as `<desc>` (omitted if blank).
    pub description: &'a str,
    /// The data, drawn left to right in order.
    pub points: &'a [Point],
    /// Formats values for axis ticks and data labels (money, %, counts).
    pub format_value: &'a dyn Fn(f64) -> String,
}

impl std::fmt::Debug for Chart<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chart")
            .field("title", &self.title)
            .field("points", &self.points.len())
            .finish_non_exhaustive()
    }
}

/// Renders vertical bars, e.g. revenue per day or quiz score buckets.
#[must_use]
pub fn bar_chart(chart: &Chart) -> String {
    render(chart, Kind::Bar)
}

/// Renders a polyline with a dot per point, e.g. enrollments over time.
#[must_use]
pub fn line_chart(chart: &Chart) -> String {
    render(chart, Kind::Line)
}

// ---------------------------------------------------------------------------
// Layout constants (view-box units).

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const MARGIN_TOP: f64 = 12.0;
const MARGIN_RIGHT: f64 = 12.0;
const MARGIN_BOTTOM: f64 = 28.0;
/// Bounds for the left margin, which is sized to fit the y tick labels.
const MARGIN_LEFT_MIN: f64 = 28.0;
const MARGIN_LEFT_MAX: f64 = 200.0;
/// Font size of all labels; the estimated advance width of one character.
const FONT_SIZE: u32 = 11;
const CHAR_WIDTH: f64 = 6.6;
/// Minimum horizontal space between two x labels, and to the view-box edge.
const LABEL_GAP: f64 = 8.0;
const EDGE_PAD: f64 = 2.0;
/// X labels longer than this many characters are shortened with "…".
const MAX_LABEL_CHARS: usize = 16;
const MIN_TICKS: usize = 4;
const MAX_TICKS: usize = 6;
/// Input magnitudes are clamped to this range so tick maths stays finite.
const MAX_MAGNITUDE: f64 = 1e200;
const MIN_MAGNITUDE: f64 = 1e-200;

const GRID_COLOR: &str = "#e5e7eb";
const AXIS_COLOR: &str = "#9ca3af";
const LABEL_COLOR: &str = "#6b7280";
const EMPTY_TEXT: &str = "No data yet";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bar,
    Line,
}

fn render(chart: &Chart, kind: Kind) -> String {
    let mut svg = Svg(String::with_capacity(1024 + chart.points.len() * 160));
    svg.open(chart, &chart_id(chart, kind));
    if chart.points.is_empty() {
        svg.raw(format_args!(
            "<text class=\"chart-label\" x=\"{}\" y=\"{}\" dy=\"0.32em\" \
             text-anchor=\"middle\" fill=\"{LABEL_COLOR}\">{EMPTY_TEXT}</text></svg>",
            num(WIDTH / 2.0),
            num(HEIGHT / 2.0),
        ));
        return svg.0;
    }

    let values: Vec<f64> = chart.points.iter().map(|p| sanitize(p.value)).collect();
    let lo = values.iter().copied().fold(0.0, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let ticks = nice_ticks(lo, hi, chart.format_value);
    let plot = Plot::new(&ticks, values.len());

    svg.grid_and_labels(&plot, &ticks, chart.points);
    match kind {
        Kind::Bar => svg.bars(&plot, chart, &values),
        Kind::Line => svg.line(&plot, chart, &values),
    }
    svg.axes(&plot);
    svg.0.push_str("</svg>");
    svg.0
}

/// The plot area inside the view box and the value → coordinate mapping.
struct Plot {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    /// Lowest tick value and the tick range it maps from.
    t_min: f64,
    t_range: f64,
    /// Horizontal space per data point.
    slot: f64,
}

impl Plot {
    fn new(ticks: &[(f64, String)], n: usize) -> Self {
        let widest_tick = ticks
            .iter()
            .map(|(_, label)| text_width(label))
            .fold(0.0, f64::max);
        let left = (widest_tick + 12.0).clamp(MARGIN_LEFT_MIN, MARGIN_LEFT_MAX);
        let right = WIDTH - MARGIN_RIGHT;
        let t_min = ticks.first().map_or(0.0, |t| t.0);
        let t_max = ticks.last().map_or(1.0, |t| t.0);
        Self {
            left,
            right,
            top: MARGIN_TOP,
            bottom: HEIGHT - MARGIN_BOTTOM,
            t_min,
            t_range: if t_max > t_min { t_max - t_min } else { 1.0 },
            slot: (right - left) / idx_f64(n.max(1)),
        }
    }

    /// Centre x of the `i`-th point.
    fn x(&self, i: usize) -> f64 {
        self.left + self.slot * (idx_f64(i) + 0.5)
    }

    fn y(&self, value: f64) -> f64 {
        self.bottom - (value - self.t_min) / self.t_range * (self.bottom - self.top)
    }
}

/// A `String` buffer for SVG markup.
struct Svg(String);

impl Svg {
    /// Appends formatted markup. Callers must escape untrusted parts.
    fn raw(&mut self, args: fmt::Arguments<'_>) {
        // Writing into a `String` cannot fail.
        let _ = self.0.write_fmt(args);
    }

    /// Appends `text` XML-escaped.
    fn text(&mut self, text: &str) {
        push_escaped(&mut self.0, text);
    }

    /// The root element with its accessible name and description.
    fn open(&mut self, chart: &Chart, id: &str) {
        let has_desc = !chart.description.trim().is_empty();
        self.raw(format_args!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"100%\" \
             viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}-title"
        ));
        if has_desc {
            self.raw(format_args!(" {id}-desc"));
        }
        self.raw(format_args!(
            "\" font-size=\"{FONT_SIZE}\"><title id=\"{id}-title\">"
        ));
        self.text(chart.title);
        self.0.push_str("</title>");
        if has_desc {
            self.raw(format_args!("<desc id=\"{id}-desc\">"));
            self.text(chart.description);
            self.0.push_str("</desc>");
        }
    }

    /// Grid lines and y tick labels per tick, then the (thinned) x labels.
    fn grid_and_labels(&mut self, plot: &Plot, ticks: &[(f64, String)], points: &[Point]) {
        self.raw(format_args!(
            "<g class=\"chart-grid\" stroke=\"{GRID_COLOR}\" stroke-width=\"1\" \
             shape-rendering=\"crispEdges\">"
        ));
        for &(tick, _) in ticks {
            let y = num(plot.y(tick));
            self.raw(format_args!(
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/>",
                num(plot.left),
                num(plot.right)
            ));
        }
        self.0.push_str("</g>");

        self.raw(format_args!(
            "<g class=\"chart-label\" fill=\"{LABEL_COLOR}\" text-anchor=\"end\">"
        ));
        for (tick, label) in ticks {
            self.raw(format_args!(
                "<text x=\"{}\" y=\"{}\" dy=\"0.32em\">",
                num(plot.left - 6.0),
                num(plot.y(*tick))
            ));
            self.text(label);
            self.0.push_str("</text>");
        }
        self.0.push_str("</g>");

        self.raw(format_args!(
            "<g class=\"chart-label\" fill=\"{LABEL_COLOR}\" text-anchor=\"middle\">"
        ));
        for (x, label) in layout_x_labels(points, plot.left, plot.right) {
            self.raw(format_args!(
                "<text x=\"{}\" y=\"{}\">",
                num(x),
                num(plot.bottom + 16.0)
            ));
            self.text(&label);
            self.0.push_str("</text>");
        }
        self.0.push_str("</g>");
    }

    /// The hover text of a bar or dot: "label: value".
    fn tooltip(&mut self, chart: &Chart, point: &Point, value: f64) {
        self.0.push_str("<title>");
        self.text(&point.label);
        self.0.push_str(": ");
        self.text(&(chart.format_value)(value));
        self.0.push_str("</title>");
    }

    fn bars(&mut self, plot: &Plot, chart: &Chart, values: &[f64]) {
        let width = (plot.slot * 0.72).min(56.0);
        let y_zero = plot.y(0.0);
        for (i, (point, &value)) in chart.points.iter().zip(values).enumerate() {
            let y = plot.y(value);
            self.raw(format_args!(
                "<rect class=\"chart-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" \
                 fill=\"currentColor\">",
                num(plot.x(i) - width / 2.0),
                num(y.min(y_zero)),
                num(width),
                num((y - y_zero).abs()),
            ));
            self.tooltip(chart, point, value);
            self.0.push_str("</rect>");
        }
    }

    fn line(&mut self, plot: &Plot, chart: &Chart, values: &[f64]) {
        if values.len() > 1 {
            self.0.push_str(
                "<polyline class=\"chart-line\" fill=\"none\" stroke=\"currentColor\" \
                 stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\" \
                 points=\"",
            );
            for (i, &value) in values.iter().enumerate() {
                if i > 0 {
                    self.0.push(' ');
                }
                self.raw(format_args!("{},{}", num(plot.x(i)), num(plot.y(value))));
            }
            self.0.push_str("\"/>");
        }
        let radius = (plot.slot * 0.3).clamp(1.5, 3.5);
        for (i, (point, &value)) in chart.points.iter().zip(values).enumerate() {
            self.raw(format_args!(
                "<circle class=\"chart-dot\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"currentColor\">",
                num(plot.x(i)),
                num(plot.y(value)),
                num(radius),
            ));
            self.tooltip(chart, point, value);
            self.0.push_str("</circle>");
        }
    }

    /// The y axis and the zero line, drawn last so they sit on top of the bars.
    fn axes(&mut self, plot: &Plot) {
        self.raw(format_args!(
            "<g class=\"chart-axis\" stroke=\"{AXIS_COLOR}\" stroke-width=\"1\" \
             shape-rendering=\"crispEdges\"><line x1=\"{l}\" y1=\"{t}\" x2=\"{l}\" y2=\"{b}\"/>\
             <line x1=\"{l}\" y1=\"{z}\" x2=\"{r}\" y2=\"{z}\"/></g>",
            l = num(plot.left),
            r = num(plot.right),
            t = num(plot.top),
            b = num(plot.bottom),
            z = num(plot.y(0.0)),
        ));
    }
}

// ---------------------------------------------------------------------------
// Y axis ticks.

/// A tick step of `mantissa × 10^exponent`, with `mantissa` in {1, 2, 5}.
#[derive(Debug, Clone, Copy)]
struct Step {
    mantissa: f64,
    exponent: i32,
}

impl Step {
    /// `k × step`, computed so that decimal steps give the closest `f64`
    /// (0.3, not 0.30000000000000004).
    fn times(self, k: f64) -> f64 {
        let scaled = k * self.mantissa;
        if self.exponent >= 0 {
            scaled * 10f64.powi(self.exponent)
        } else {
            scaled / 10f64.powi(-self.exponent)
        }
    }

    fn next(self) -> Self {
        match self.mantissa {
            m if m < 1.5 => Self {
                mantissa: 2.0,
                ..self
            },
            m if m < 3.5 => Self {
                mantissa: 5.0,
                ..self
            },
            _ => Self {
                mantissa: 1.0,
                exponent: self.exponent + 1,
            },
        }
    }
}

/// Returns 4–6 evenly spaced `(value, label)` ticks covering `lo..=hi`
/// (`lo <= 0 <= hi`), with a step of 1, 2 or 5 × 10ⁿ and 0 among the ticks.
///
/// The smallest step yielding at most six ticks wins, unless `format_value`
/// renders two of its ticks identically, in which case coarser steps are tried.
fn nice_ticks(lo: f64, hi: f64, format_value: &dyn Fn(f64) -> String) -> Vec<(f64, String)> {
    let (lo, hi) = if hi - lo > 0.0 {
        (lo.min(0.0), hi.max(0.0))
    } else {
        // All values are zero: pick a unit-ish axis.
        (0.0, 1.0)
    };
    let span = hi - lo;
    // `span` lies within [1e-200, 4e200], so the exponent fits an `i32` easily.
    let exponent = span.log10().floor() as i32 - 1;
    // span / step starts in [10, 100): too many ticks, so the loop walks upwards.
    let mut step = Step {
        mantissa: 1.0,
        exponent,
    };
    let mut first_fit: Option<Vec<(f64, String)>> = None;
    for _ in 0..40 {
        let size = step.times(1.0);
        // The epsilon keeps float noise (e.g. 0.3 / 0.1) from adding a tick.
        let mut k_lo = (lo / size + 1e-9).floor();
        let mut k_hi = (hi / size - 1e-9).ceil();
        let count = k_hi - k_lo + 1.0;
        if count <= idx_f64(MAX_TICKS) {
            while k_hi - k_lo + 1.0 < idx_f64(MIN_TICKS) {
                // Grow away from zero on the side that has data.
                if hi > 0.0 {
                    k_hi += 1.0;
                } else {
                    k_lo -= 1.0;
                }
            }
            let mut ticks = Vec::with_capacity(MAX_TICKS);
            let mut k = k_lo;
            while k <= k_hi {
                let value = step.times(k) + 0.0; // `+ 0.0` turns -0 into 0.
                ticks.push((value, format_value(value)));
                k += 1.0;
            }
            let distinct = ticks
                .iter()
                .enumerate()
                .all(|(i, (_, a))| ticks[..i].iter().all(|(_, b)| a != b));
            if distinct {
                return ticks;
            }
            if first_fit.is_none() {
                first_fit = Some(ticks);
            }
        }
        step = step.next();
    }
    // Only reached if `format_value` collapses every candidate (e.g. it
    // ignores its argument): fall back to the finest fitting step.
    first_fit.unwrap_or_else(|| vec![(0.0, format_value(0.0)), (1.0, format_value(1.0))])
}

// ---------------------------------------------------------------------------
// X labels.

/// Positions the x labels (centre x, text), showing every k-th one so that
/// neighbours never overlap and none spills over the view-box edge.
fn layout_x_labels(points: &[Point], left: f64, right: f64) -> Vec<(f64, String)> {
    if points.is_empty() {
        return Vec::new();
    }
    let n = points.len();
    let slot = (right - left) / idx_f64(n);
    let texts: Vec<String> = points.iter().map(|p| truncate_label(&p.label)).collect();
    let widest = texts.iter().map(|t| text_width(t)).fold(0.0, f64::max);
    let half = widest / 2.0;
    // Edge labels are pushed inwards; reserve room for that shift too.
    let shift_left = (EDGE_PAD + half - (left + slot / 2.0)).max(0.0);
    let shift_right = (EDGE_PAD + half - (WIDTH - right + slot / 2.0)).max(0.0);
    let needed = widest + LABEL_GAP + shift_left.max(shift_right);
    let mut every = 1;
    while every < n && slot * idx_f64(every) < needed {
        every += 1;
    }
    texts
        .into_iter()
        .enumerate()
        .filter(|(i, text)| i % every == 0 && !text.is_empty())
        .map(|(i, text)| {
            let half = text_width(&text) / 2.0;
            let centre = left + slot * (idx_f64(i) + 0.5);
            let x = centre.min(WIDTH - EDGE_PAD - half).max(EDGE_PAD + half);
            (x, text)
        })
        .collect()
}

/// Shortens `label` to at most [`MAX_LABEL_CHARS`] characters.
fn truncate_label(label: &str) -> String {
    let label = label.trim();
    if label.chars().count() <= MAX_LABEL_CHARS {
        label.to_owned()
    } else {
        let mut short: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
        short.truncate(short.trim_end().len());
        short.push('…');
        short
    }
}

/// Rough rendered width of `text` at [`FONT_SIZE`].
fn text_width(text: &str) -> f64 {
    idx_f64(text.chars().count()) * CHAR_WIDTH
}

// ---------------------------------------------------------------------------
// Small helpers.

/// Maps NaN/±inf to 0 and clamps magnitudes to [`MIN_MAGNITUDE`, `MAX_MAGNITUDE`].
fn sanitize(value: f64) -> f64 {
    if !value.is_finite() || value.abs() < MIN_MAGNITUDE {
        0.0
    } else {
        value.clamp(-MAX_MAGNITUDE, MAX_MAGNITUDE)
    }
}

/// Lossless for any realistic number of points.
fn idx_f64(i: usize) -> f64 {
    f64::from(u32::try_from(i).unwrap_or(u32::MAX))
}

/// Formats a coordinate with at most two decimals and no trailing zeros.
fn num(x: f64) -> String {
    let rounded = (x * 100.0).round() / 100.0 + 0.0; // `+ 0.0` turns -0 into 0.
    let mut s = format!("{rounded:.2}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    s
}

/// Appends `text` with `& < > " '` escaped and characters that XML 1.0
/// forbids (most C0 controls, U+FFFE, U+FFFF) dropped.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// A stable (FNV-1a, platform- and release-independent) id for the chart.
fn chart_id(chart: &Chart, kind: Kind) -> String {
    const SEPARATOR: &[u8] = &[0xff]; // never occurs in UTF-8
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(match kind {
        Kind::Bar => b"bar",
        Kind::Line => b"line",
    });
    feed(SEPARATOR);
    feed(chart.title.as_bytes());
    feed(SEPARATOR);
    feed(chart.description.as_bytes());
    for point in chart.points {
        feed(SEPARATOR);
        feed(point.label.as_bytes());
        feed(SEPARATOR);
        feed(&sanitize(point.value).to_bits().to_le_bytes());
    }
    format!("chart-{hash:016x}")
}

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(values: &[(&str, f64)]) -> Vec<Point> {
        values
            .iter()
            .map(|&(label, value)| Point {
                label: label.to_owned(),
                value,
            })
            .collect()
    }

    fn count(v: f64) -> String {
        format!("{v:.0}")
    }

    fn money(v: f64) -> String {
        format!("${v:.2}")
    }

    fn plain(v: f64) -> String {
        format!("{v}")
    }

    fn chart<'a>(title: &'a str, points: &'a [Point], fmt: &'a dyn Fn(f64) -> String) -> Chart<'a> {
        Chart {
            title,
            description: "A test chart",
            points,
            format_value: fmt,
        }
    }

    fn tick_values(lo: f64, hi: f64, fmt: &dyn Fn(f64) -> String) -> Vec<f64> {
        nice_ticks(lo, hi, fmt).into_iter().map(|t| t.0).collect()
    }

    fn tick_labels(lo: f64, hi: f64, fmt: &dyn Fn(f64) -> String) -> Vec<String> {
        nice_ticks(lo, hi, fmt).into_iter().map(|t| t.1).collect()
    }

    /// All start tags (`<name ...>` / `<name .../>`) with the given class.
    fn tags_with_class<'s>(svg: &'s str, class: &str) -> Vec<&'s str> {
        let needle = format!("class=\"{class}\"");
        svg.match_indices('<')
            .filter_map(|(start, _)| {
                let end = start + svg[start..].find('>')?;
                let tag = &svg[start..=end];
                tag.contains(&needle).then_some(tag)
            })
            .collect()
    }

    /// The numeric value of attribute `name` in a start tag.
    fn attr(tag: &str, name: &str) -> f64 {
        let needle = format!(" {name}=\"");
        let start = tag.find(&needle).expect("attribute present") + needle.len();
        let len = tag[start..].find('"').expect("closing quote");
        tag[start..start + len].parse().expect("numeric attribute")
    }

    /// The contents of every `<text>` inside the `<g>` whose start tag contains `group`.
    fn texts_in_group(svg: &str, group: &str) -> Vec<String> {
        let start = svg.find(group).expect("group present");
        let end = start + svg[start..].find("</g>").expect("group closed");
        svg[start..end]
            .split("<text")
            .skip(1)
            .map(|t| {
                let body = &t[t.find('>').expect("tag end") + 1..];
                body[..body.find("</text>").expect("text closed")].to_owned()
            })
            .collect()
    }

    const Y_LABELS: &str = "text-anchor=\"end\"";
    const X_LABELS: &str = "text-anchor=\"middle\"";

    /// A minimal well-formedness check: balanced tags, quoted attributes
    /// without raw `<`, and only the five known entities (plus `&#39;`).
    fn assert_well_formed(svg: &str) {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = svg;
        while let Some(lt) = rest.find('<') {
            assert!(!rest[..lt].contains('>'), "raw > in text");
            assert_entities(&rest[..lt]);
            let end = lt + rest[lt..].find('>').expect("unterminated tag");
            let tag = &rest[lt + 1..end];
            assert!(!tag.contains('<'), "raw < inside tag: {tag}");
            assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes: {tag}");
            assert_entities(tag);
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "mismatched closing tag");
            } else if !tag.ends_with('/') {
                let name = tag.split([' ', '/']).next().expect("tag name");
                stack.push(name);
            }
            rest = &rest[end + 1..];
        }
        assert_entities(rest);
        assert!(stack.is_empty(), "unclosed tags: {stack:?}");
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
    }

    fn assert_entities(text: &str) {
        for (i, _) in text.match_indices('&') {
            let rest = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                    .iter()
                    .any(|e| rest.starts_with(e)),
                "bare ampersand in {text:?}"
            );
        }
    }

    fn is_nice_step(step: f64) -> bool {
        let magnitude = 10f64.powf(step.log10().floor());
        let mantissa = step / magnitude;
        [1.0, 2.0, 5.0, 10.0]
            .iter()
            .any(|m| (mantissa - m).abs() < 1e-6)
    }

    fn assert_nice(lo: f64, hi: f64, fmt: &dyn Fn(f64) -> String) {
        let ticks = tick_values(lo, hi, fmt);
        let ctx = format!("lo={lo} hi={hi} ticks={ticks:?}");
        assert!((MIN_TICKS..=MAX_TICKS).contains(&ticks.len()), "{ctx}");
        assert!(ticks.contains(&0.0), "{ctx}");
        let step = ticks[1] - ticks[0];
        // Data may exceed the outer ticks by float noise only (see `nice_ticks`).
        let slack = step * 1e-9;
        assert!(ticks[0] <= lo.min(0.0) + slack, "{ctx}");
        assert!(*ticks.last().unwrap() >= hi.max(0.0) - slack, "{ctx}");
        if lo >= 0.0 {
            assert_eq!(ticks[0].to_bits(), 0, "{ctx}: starts at +0");
        }
        assert!(is_nice_step(step), "{ctx}");
        for pair in ticks.windows(2) {
            assert!(((pair[1] - pair[0]) - step).abs() <= step * 1e-9, "{ctx}");
        }
    }

    // --- nice ticks -------------------------------------------------------

    #[test]
    fn nice_ticks_common_ranges() {
        assert_eq!(
            tick_values(0.0, 87.0, &count),
            [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(tick_values(0.0, 5.1, &count), [0.0, 2.0, 4.0, 6.0]);
        assert_eq!(
            tick_values(0.0, 10.0, &count),
            [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(tick_values(0.0, 3.0, &count), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(
            tick_values(0.0, 1234.0, &money),
            [0.0, 500.0, 1000.0, 1500.0]
        );
        assert_eq!(
            tick_values(0.0, 48_250.0, &money),
            [0.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0, 50_000.0]
        );
    }

    #[test]
    fn nice_ticks_have_exact_decimal_values() {
        assert_eq!(
            tick_labels(0.0, 0.9, &plain),
            ["0", "0.2", "0.4", "0.6", "0.8", "1"]
        );
        assert_eq!(
            tick_labels(0.0, 0.03, &plain),
            ["0", "0.01", "0.02", "0.03"]
        );
    }

    #[test]
    fn nice_ticks_avoid_duplicate_labels() {
        // Step 0.5 would fit, but an integer formatter would print 0, 0, 1, 2, 2.
        assert_eq!(tick_values(0.0, 2.0, &plain), [0.0, 0.5, 1.0, 1.5, 2.0]);
        assert_eq!(tick_values(0.0, 2.0, &count), [0.0, 1.0, 2.0, 3.0]);
        let labels = tick_labels(0.0, 2.0, &count);
        assert_eq!(labels, ["0", "1", "2", "3"]);
        // A formatter that ignores its input still yields a usable axis.
        let constant = |_: f64| "x".to_owned();
        assert_nice(0.0, 2.0, &constant);
    }

    #[test]
    fn nice_ticks_all_zero() {
        assert_eq!(tick_values(0.0, 0.0, &count), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(
            tick_labels(0.0, 0.0, &money),
            ["$0.00", "$0.20", "$0.40", "$0.60", "$0.80", "$1.00"]
        );
    }

    #[test]
    fn nice_ticks_negative() {
        assert_eq!(
            tick_values(-37.0, 52.0, &count),
            [-40.0, -20.0, 0.0, 20.0, 40.0, 60.0]
        );
        assert_eq!(
            tick_values(-5.0, 0.0, &count),
            [-5.0, -4.0, -3.0, -2.0, -1.0, 0.0]
        );
        // All-negative data grows downwards, keeping 0 as the top tick.
        assert_eq!(tick_values(-2.0, 0.0, &count), [-3.0, -2.0, -1.0, 0.0]);
    }

    #[test]
    fn nice_ticks_property_sweep() {
        // Deterministic pseudo-random ranges across many magnitudes.
        let mut seed: u64 = 42;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            f64::from(u32::try_from(seed >> 40).expect("24 bits")) / f64::from(1u32 << 24)
        };
        for _ in 0..2000 {
            let magnitude = 10f64.powf(next() * 16.0 - 8.0);
            let hi = next() * magnitude;
            let lo = if next() < 0.3 {
                -next() * magnitude
            } else {
                0.0
            };
            assert_nice(lo, hi, &plain);
            assert_nice(lo, hi, &|v| format!("{v:.3e}"));
        }
        for &(lo, hi) in &[(0.0, 1e200), (-1e200, 1e200), (0.0, 1e-200), (-1e-200, 0.0)] {
            assert_nice(lo, hi, &plain);
        }
    }

    // --- rendering --------------------------------------------------------

    #[test]
    fn basic_structure() {
        let points = pts(&[("Mon", 120.0), ("Tue", 80.5), ("Wed", 0.0)]);
        for svg in [
            bar_chart(&chart("Revenue", &points, &money)),
            line_chart(&chart("Revenue", &points, &money)),
        ] {
            assert_well_formed(&svg);
            assert!(svg.contains("width=\"100%\""));
            assert!(svg.contains("viewBox=\"0 0 640 260\""));
            assert!(svg.contains("role=\"img\""));
            assert!(svg.contains("class=\"chart\""));
            assert!(!svg.contains("style="));
            assert!(!svg.contains("<script"));
            assert!(svg.contains("class=\"chart-grid\""));
            assert!(svg.contains("class=\"chart-axis\""));
            assert!(svg.contains("class=\"chart-label\""));
            assert!(svg.contains("currentColor"));

            let labelled = svg.split("aria-labelledby=\"").nth(1).unwrap();
            let ids: Vec<&str> = labelled[..labelled.find('"').unwrap()].split(' ').collect();
            assert_eq!(ids.len(), 2);
            assert!(svg.contains(&format!("<title id=\"{}\">Revenue</title>", ids[0])));
            assert!(svg.contains(&format!("<desc id=\"{}\">A test chart</desc>", ids[1])));

            let y_labels = texts_in_group(&svg, Y_LABELS);
            assert_eq!(y_labels.first().map(String::as_str), Some("$0.00"));
            assert!((MIN_TICKS..=MAX_TICKS).contains(&y_labels.len()));
            assert_eq!(texts_in_group(&svg, X_LABELS), ["Mon", "Tue", "Wed"]);
        }
        let bar = bar_chart(&chart("Revenue", &points, &money));
        assert_eq!(tags_with_class(&bar, "chart-bar").len(), 3);
        assert!(bar.contains("<title>Tue: $80.50</title>"));
        let line = line_chart(&chart("Revenue", &points, &money));
        assert_eq!(tags_with_class(&line, "chart-line").len(), 1);
        assert_eq!(tags_with_class(&line, "chart-dot").len(), 3);
        assert!(line.contains("<title>Mon: $120.00</title>"));
    }

    #[test]
    fn blank_description_is_omitted() {
        let points = pts(&[("a", 1.0)]);
        let svg = bar_chart(&Chart {
            title: "T",
            description: "  ",
            points: &points,
            format_value: &count,
        });
        assert_well_formed(&svg);
        assert!(!svg.contains("<desc"));
        assert!(!svg.contains("-desc"));
        assert!(svg.contains("-title\""));
    }

    #[test]
    fn escapes_all_input_text() {
        let evil = "<script>alert('x&y')</script>\"";
        let points = pts(&[(evil, 1.0), ("ok", 2.0)]);
        let fmt = |v: f64| format!("<b>{v}</b>");
        let c = Chart {
            title: evil,
            description: evil,
            points: &points,
            format_value: &fmt,
        };
        for svg in [bar_chart(&c), line_chart(&c)] {
            assert_well_formed(&svg);
            assert!(!svg.contains("<script"));
            assert!(!svg.contains("<b>"));
            assert!(
                svg.contains("&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;&quot;"),
                "{svg}"
            );
            assert!(svg.contains("&lt;b&gt;1&lt;/b&gt;"));
        }
    }

    #[test]
    fn escape_function() {
        let mut out = String::new();
        push_escaped(&mut out, "a&b<c>d\"e'f\u{0}\u{1b}g\th\u{FFFF}ü😀");
        assert_eq!(out, "a&amp;b&lt;c&gt;d&quot;e&#39;fg\thü😀");
    }

    #[test]
    fn empty_chart_says_no_data() {
        let fmt = count;
        for svg in [
            bar_chart(&chart("Empty", &[], &fmt)),
            line_chart(&chart("Empty", &[], &fmt)),
        ] {
            assert_well_formed(&svg);
            assert!(svg.contains(">No data yet</text>"));
            assert!(svg.contains("role=\"img\""));
            assert!(svg.contains(">Empty</title>"));
            assert!(!svg.contains("chart-bar"));
            assert!(!svg.contains("chart-dot"));
            assert!(!svg.contains("chart-grid"));
        }
    }

    #[test]
    fn all_zero_data_renders_flat_chart() {
        let points = pts(&[("a", 0.0), ("b", 0.0)]);
        let svg = bar_chart(&chart("Zero", &points, &count));
        assert_well_formed(&svg);
        assert!(!svg.contains("No data yet"));
        assert_eq!(texts_in_group(&svg, Y_LABELS), ["0", "1", "2", "3"]);
        for bar in tags_with_class(&svg, "chart-bar") {
            assert!(attr(bar, "height").abs() < 1e-9);
        }
        let line = line_chart(&chart("Zero", &points, &count));
        assert_well_formed(&line);
        let ys: Vec<f64> = tags_with_class(&line, "chart-dot")
            .iter()
            .map(|d| attr(d, "cy"))
            .collect();
        assert_eq!(ys, [HEIGHT - MARGIN_BOTTOM; 2]);
    }

    #[test]
    fn single_point() {
        let points = pts(&[("Only", 42.0)]);
        let bar = bar_chart(&chart("One", &points, &count));
        assert_well_formed(&bar);
        let bars = tags_with_class(&bar, "chart-bar");
        assert_eq!(bars.len(), 1);
        assert!(attr(bars[0], "width") <= 56.0, "bar width is capped");
        assert!(attr(bars[0], "height") > 0.0);
        assert_eq!(texts_in_group(&bar, X_LABELS), ["Only"]);
        assert!(bar.contains("<title>Only: 42</title>"));

        let line = line_chart(&chart("One", &points, &count));
        assert_well_formed(&line);
        assert!(tags_with_class(&line, "chart-line").is_empty());
        assert_eq!(tags_with_class(&line, "chart-dot").len(), 1);
    }

    #[test]
    fn negative_values_extend_axis_below_zero() {
        let points = pts(&[("up", 30.0), ("down", -30.0)]);
        let svg = bar_chart(&chart("Net", &points, &count));
        assert_well_formed(&svg);
        let labels = texts_in_group(&svg, Y_LABELS);
        assert!(labels.contains(&"-40".to_owned()), "{labels:?}");
        assert!(labels.contains(&"0".to_owned()));
        let bars = tags_with_class(&svg, "chart-bar");
        let (up, down) = (bars[0], bars[1]);
        // Both bars meet at the zero line; the negative one hangs below it.
        assert!((attr(up, "y") + attr(up, "height") - attr(down, "y")).abs() < 0.02);
        assert!((attr(up, "height") - attr(down, "height")).abs() < 0.02);
        let axis = &svg[svg.find("class=\"chart-axis\"").unwrap()..];
        let zero_line = axis.split("<line").nth(2).unwrap();
        assert!((attr(zero_line, "y1") - attr(down, "y")).abs() < 0.02);
    }

    #[test]
    fn many_points_thin_x_labels_without_overlap() {
        let points: Vec<Point> = (0..90)
            .map(|i| Point {
                label: format!("2024-{:02}-{:02}", i / 30 + 1, i % 30 + 1),
                value: f64::from(i) * 1.5,
            })
            .collect();
        for svg in [
            bar_chart(&chart("90 days", &points, &count)),
            line_chart(&chart("90 days", &points, &count)),
        ] {
            assert_well_formed(&svg);
            let labels = texts_in_group(&svg, X_LABELS);
            assert!(labels.len() > 3 && labels.len() < 15, "{}", labels.len());
            assert_eq!(labels[0], "2024-01-01");
            // Every point still has a tooltip.
            assert_eq!(svg.matches("<title>").count(), 90);
            assert_x_labels_fit(&svg);
        }
    }

    #[test]
    fn long_labels_are_truncated_and_fit() {
        let long = "Introduction to Advanced Underwater Basket Weaving";
        let points = pts(&[
            (long, 3.0),
            (long, 5.0),
            (long, 4.0),
            (long, 8.0),
            (long, 1.0),
        ]);
        let svg = bar_chart(&chart("Courses", &points, &count));
        assert_well_formed(&svg);
        let labels = texts_in_group(&svg, X_LABELS);
        assert!(labels.iter().all(|l| l == "Introduction to…"), "{labels:?}");
        // The tooltip keeps the full label.
        assert!(svg.contains(&format!("<title>{long}: 8</title>")));
        assert_x_labels_fit(&svg);
    }

    fn assert_x_labels_fit(svg: &str) {
        let start = svg.find(X_LABELS).unwrap();
        let group = &svg[start..start + svg[start..].find("</g>").unwrap()];
        let spans: Vec<(f64, f64)> = group
            .split("<text")
            .skip(1)
            .map(|t| {
                let x = attr(t, "x");
                let text = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
                let half = text_width(text) / 2.0;
                (x - half, x + half)
            })
            .collect();
        for pair in spans.windows(2) {
            assert!(
                pair[0].1 + LABEL_GAP / 2.0 <= pair[1].0,
                "overlap: {pair:?}"
            );
        }
        for &(a, b) in &spans {
            assert!(a >= 0.0 && b <= WIDTH, "outside the view box: {a}..{b}");
        }
    }

    #[test]
    fn non_finite_values_are_zero() {
        let points = pts(&[
            ("nan", f64::NAN),
            ("inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("five", 5.0),
        ]);
        for svg in [
            bar_chart(&chart("Odd", &points, &plain)),
            line_chart(&chart("Odd", &points, &plain)),
        ] {
            assert_well_formed(&svg);
            assert!(svg.contains("<title>nan: 0</title>"));
            assert!(svg.contains("<title>inf: 0</title>"));
            assert!(svg.contains("<title>-inf: 0</title>"));
            assert!(svg.contains("<title>five: 5</title>"));
            assert!(!svg.contains("NaN") && !svg.contains("=\"inf"));
        }
    }

    #[test]
    fn extreme_magnitudes_do_not_break_layout() {
        for value in [f64::MAX, -f64::MAX, 1e300, 1e-310, f64::MIN_POSITIVE, -0.0] {
            let points = pts(&[("a", value), ("b", 1.0)]);
            for svg in [
                bar_chart(&chart("X", &points, &plain)),
                line_chart(&chart("X", &points, &plain)),
            ] {
                assert_well_formed(&svg);
                assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
                assert!((MIN_TICKS..=MAX_TICKS).contains(&texts_in_group(&svg, Y_LABELS).len()));
            }
        }
    }

    #[test]
    fn output_is_deterministic_and_ids_differ() {
        let points = pts(&[("a", 1.0), ("b", 2.0)]);
        let a1 = bar_chart(&chart("Revenue", &points, &money));
        let a2 = bar_chart(&chart("Revenue", &points, &money));
        assert_eq!(a1, a2);
        let id = |svg: &str| {
            let s = &svg[svg.find("<title id=\"").unwrap() + 11..];
            s[..s.find('"').unwrap()].to_owned()
        };
        let other_title = bar_chart(&chart("Enrollments", &points, &money));
        let as_line = line_chart(&chart("Revenue", &points, &money));
        let other_data = bar_chart(&chart("Revenue", &pts(&[("a", 1.0)]), &money));
        assert_ne!(id(&a1), id(&other_title));
        assert_ne!(id(&a1), id(&as_line));
        assert_ne!(id(&a1), id(&other_data));
        // Ids are valid, stable tokens.
        assert!(id(&a1).starts_with("chart-"));
        assert!(id(&a1).ends_with("-title"));
        assert!(
            id(&a1)
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        );
    }

    #[test]
    fn coordinates_are_compact() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(1.234_567), "1.23");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(640.0), "640");
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate_label("  short  "), "short");
        assert_eq!(truncate_label("exactly sixteen!"), "exactly sixteen!");
        assert_eq!(
            truncate_label("one two three four five"),
            "one two three f…"
        );
        assert_eq!(truncate_label("abcdefghijklmn  xyz"), "abcdefghijklmn…");
        assert_eq!(truncate_label("äöüäöüäöüäöüäöüäöü").chars().count(), 16);
    }
}
