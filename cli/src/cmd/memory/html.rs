//! `--html`: one self-contained page (no network) with a treemap of the prefix tree and
//! the biggest keys. The summary is embedded as JSON; the page's script draws it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use serde_json::Value;

use super::summary::Summary;
use super::table::human;
use crate::output::Output;

const TEMPLATE: &str = include_str!("report.html");
/// Children per prefix embedded in the page.
const HTML_CHILDREN: usize = 200;

/// Writes the report to `path` (atomically, like every output file).
pub fn write(path: &Path, s: &Summary, about: &Value) -> anyhow::Result<()> {
    let data = s.to_json(about.clone(), HTML_CHILDREN);
    let page = render(&data, about);
    let mut out = Output::create(Some(path))?;
    out.write_all(page.as_bytes())?;
    out.commit()
}

fn render(data: &Value, about: &Value) -> String {
    let file = about["file"].as_str().unwrap_or("dump");
    let title = format!("Memory of {file}");
    let about_line = format!(
        "{} keys, {} ({} bytes), estimated for {} with the {} allocator",
        data["total"]["keys"],
        human(data["total"]["bytes"].as_u64().unwrap_or(0)),
        data["total"]["bytes"],
        about["server"].as_str().unwrap_or("?"),
        about["allocator"].as_str().unwrap_or("?"),
    );
    let mut rows = String::new();
    for k in data["top_keys"].as_array().into_iter().flatten() {
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td class=\"key\">{}</td><td class=\"key\">{}</td><td>{}</td><td>{}</td><td class=\"key\">{}</td></tr>",
            k["size_in_bytes"],
            escape(k["type"].as_str().unwrap_or("")),
            escape(k["encoding"].as_str().unwrap_or("")),
            k["num_elements"],
            k["db"],
            escape(k["name"].as_str().unwrap_or("")),
        );
    }
    // Inside <script>, "<" never appears literally: no "</script>" can end it early.
    let json = json_for_script(&data.to_string());
    TEMPLATE
        .replace("{{TITLE}}", &escape(&title))
        .replace("{{ABOUT}}", &escape(&about_line))
        .replace("{{TOP_ROWS}}", &rows)
        .replace("{{DATA}}", &json)
}

/// JSON text safe inside `<script>`: no `<` (no "</script>" can end it early) and no
/// hidden character (the raw key names keep them), as `\uXXXX` escapes of the same text.
fn json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c == '<' || rdb_parser::is_hidden_char(c) {
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Escapes text for HTML content and attribute values; hidden characters (controls,
/// bidirectional overrides, zero-width characters) are shown as `\u{..}`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in rdb_parser::escape_hidden(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_cannot_break_out_of_the_page() {
        let data = json!({
            "total": {"keys": 1, "bytes": 10},
            "top_keys": [{"size_in_bytes": 10, "type": "string", "encoding": "raw", "num_elements": 1, "db": 0,
                          "name": "\"</script><b>x\""}],
        });
        let page = render(&data, &json!({"file": "a<b.rdb", "server": "redis-7.0", "allocator": "jemalloc"}));
        assert_eq!(page.matches("</script>").count(), 2, "only the page's own script tags");
        assert!(page.contains("&lt;/script&gt;&lt;b&gt;x"));
        assert!(page.contains("Memory of a&lt;b.rdb"));
    }

    #[test]
    fn direction_overrides_are_shown_not_obeyed() {
        let data = json!({
            "total": {"keys": 1, "bytes": 10},
            "top_keys": [{"size_in_bytes": 10, "type": "string", "encoding": "raw", "num_elements": 1, "db": 0,
                          "name": "invoice\u{202e}fdp.exe\u{2066}\u{200b}", "key": "\u{202e}\u{e0041}"}],
        });
        let page = render(&data, &json!({"file": "x\u{202e}.rdb", "server": "redis-7.0", "allocator": "jemalloc"}));
        for hidden in ['\u{202e}', '\u{2066}', '\u{200b}'] {
            assert!(!page.contains(hidden), "{hidden:?} left in the page");
        }
        assert!(page.contains(r"invoice\u{202e}fdp.exe\u{2066}\u{200b}"));
        assert!(page.contains(r"Memory of x\u{202e}.rdb"));
        assert!(page.contains(r#""key":"\u202e\udb40\udc41""#), "raw names stay exact JSON");
    }
}
