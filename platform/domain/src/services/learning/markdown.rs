//! Text lessons are Markdown, rendered to HTML on the server and sanitised before any page
//! shows it: whatever an editor wrote, no script, handler, frame, form or style survives, and
//! links open without handing the lesson page to the target.

use std::collections::HashSet;

use pulldown_cmark::{Options, Parser, html};

/// The lesson's Markdown as safe HTML.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_tag_attributes("code", ["class"])
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn renders_code_tables_and_emphasis() {
        let html = render(
            "# Title\n\n*hi* `x`\n\n```rust\nfn main() {}\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<em>hi</em>"));
        assert!(
            html.contains("<code class=\"language-rust\">fn main() {}"),
            "{html}"
        );
        assert!(html.contains("<table>"));
    }

    #[test]
    fn strips_what_could_act() {
        let attacks = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<form action=\"https://evil.example\"><input name=p></form>",
            "<div style=\"position:fixed\">x</div>",
            "<svg onload=alert(1)>",
        ];
        for attack in attacks {
            let html = render(attack).to_lowercase();
            for bad in [
                "<script",
                "onerror",
                "javascript:",
                "data:",
                "<iframe",
                "<form",
                "style=",
                "<svg",
                "onload",
            ] {
                assert!(!html.contains(bad), "{attack} → {html}");
            }
        }
    }

    #[test]
    fn links_do_not_hand_over_the_page() {
        let html = render("[site](https://example.com)");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }
}
