//! HTML reduced to text for indexing: a tokenizer-level reducer, not a DOM.
//!
//! Text is what a reader sees: tags are dropped, the contents of `script`, `style`,
//! `template`, `noscript`, `iframe`, `object` and `svg` are skipped, comments and doctypes
//! vanish, block elements (paragraphs, headings, list items, table rows, ...) become line
//! breaks, whitespace collapses except inside `pre`, and character references are decoded
//! (numeric ones, and the named ones that occur in prose; an unknown name stays as written).
//! Malformed markup degrades to text rather than failing: a `<` that opens no tag is a `<`.

/// Elements whose contents are not text a reader sees.
const SKIPPED: &[&str] = &[
    "script", "style", "template", "noscript", "iframe", "object", "svg",
];

/// Elements that start and end a block of text.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tr",
    "ul",
    "title",
];

/// The named character references of prose, and their text.
const ENTITIES: &[(&str, &str)] = &[
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", " "),
    ("shy", ""),
    ("copy", "©"),
    ("reg", "®"),
    ("trade", "™"),
    ("hellip", "…"),
    ("mdash", "—"),
    ("ndash", "–"),
    ("lsquo", "‘"),
    ("rsquo", "’"),
    ("sbquo", "‚"),
    ("ldquo", "“"),
    ("rdquo", "”"),
    ("bdquo", "„"),
    ("laquo", "«"),
    ("raquo", "»"),
    ("bull", "•"),
    ("middot", "·"),
    ("deg", "°"),
    ("times", "×"),
    ("divide", "÷"),
    ("plusmn", "±"),
    ("euro", "€"),
    ("pound", "£"),
    ("yen", "¥"),
    ("cent", "¢"),
    ("sect", "§"),
    ("para", "¶"),
    ("larr", "←"),
    ("rarr", "→"),
    ("uarr", "↑"),
    ("darr", "↓"),
    ("harr", "↔"),
    ("le", "≤"),
    ("ge", "≥"),
    ("ne", "≠"),
    ("minus", "−"),
    ("frac12", "½"),
    ("frac14", "¼"),
    ("frac34", "¾"),
    ("eacute", "é"),
    ("egrave", "è"),
    ("ecirc", "ê"),
    ("aacute", "á"),
    ("agrave", "à"),
    ("acirc", "â"),
    ("auml", "ä"),
    ("ouml", "ö"),
    ("uuml", "ü"),
    ("szlig", "ß"),
    ("ccedil", "ç"),
    ("ntilde", "ñ"),
    ("oacute", "ó"),
    ("iacute", "í"),
    ("uacute", "ú"),
];

/// The text of an HTML document or fragment: paragraphs separated by blank lines.
pub fn html_to_text(html: &str) -> String {
    let mut out = Output::default();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.text(&rest[..lt]);
        rest = &rest[lt..];
        rest = match markup(rest) {
            Markup::Comment(after) | Markup::Declaration(after) => after,
            Markup::CData(text, after) => {
                out.literal(text);
                after
            }
            Markup::Tag(tag, after) => out.tag(&tag, after),
            Markup::Text => {
                out.literal("<");
                &rest[1..]
            }
        };
    }
    out.text(rest);
    out.finish()
}

/// What starts at a `<`.
enum Markup<'a> {
    /// `<!-- ... -->` (or an unclosed comment, to the end); what follows.
    Comment(&'a str),
    /// `<!DOCTYPE ...>`, `<?...>`; what follows.
    Declaration(&'a str),
    /// `<![CDATA[text]]>`: its text, and what follows.
    CData(&'a str, &'a str),
    /// A start or end tag, and what follows it.
    Tag(Tag, &'a str),
    /// A `<` that opens nothing.
    Text,
}

struct Tag {
    /// Lowercase.
    name: String,
    closing: bool,
}

fn markup(at: &str) -> Markup<'_> {
    if let Some(body) = at.strip_prefix("<!--") {
        return Markup::Comment(body.find("-->").map_or("", |end| &body[end + 3..]));
    }
    if let Some(body) = at.strip_prefix("<![CDATA[") {
        return match body.find("]]>") {
            Some(end) => Markup::CData(&body[..end], &body[end + 3..]),
            None => Markup::CData(body, ""),
        };
    }
    if at.starts_with("<!") || at.starts_with("<?") {
        return Markup::Declaration(at.find('>').map_or("", |end| &at[end + 1..]));
    }
    let (closing, body) = match at.strip_prefix("</") {
        Some(body) => (true, body),
        None => (false, &at[1..]),
    };
    if !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Markup::Text;
    }
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':'))
        .unwrap_or(body.len());
    let name = body[..name_len].to_ascii_lowercase();
    match tag_end(&body[name_len..]) {
        Some(end) => Markup::Tag(Tag { name, closing }, &body[name_len + end..]),
        None => Markup::Text,
    }
}

/// The offset just past the `>` that ends a tag's attributes, skipping quoted values.
fn tag_end(attributes: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in attributes.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i + 1),
            (None, _) => {}
        }
    }
    None
}

/// The text being built.
#[derive(Default)]
struct Output {
    text: String,
    /// How deep inside `pre` elements we are.
    pre: usize,
    /// A space is owed before the next word.
    space: bool,
}

impl Output {
    /// Handles a tag; returns where reading goes on (past a skipped element's contents).
    fn tag<'a>(&mut self, tag: &Tag, after: &'a str) -> &'a str {
        let name = tag.name.as_str();
        if !tag.closing && SKIPPED.contains(&name) {
            return skip_element(name, after);
        }
        match name {
            "br" => self.line_break(),
            "pre" if tag.closing => {
                self.pre = self.pre.saturating_sub(1);
                self.paragraph();
            }
            "pre" => {
                self.paragraph();
                self.pre += 1;
            }
            "td" | "th" => self.space = true,
            _ if BLOCKS.contains(&name) => self.paragraph(),
            _ => {}
        }
        after
    }

    /// Text between tags: references decoded, whitespace collapsed outside `pre`.
    fn text(&mut self, raw: &str) {
        let decoded = decode_references(raw);
        if self.pre > 0 {
            self.literal(&decoded);
            return;
        }
        for (i, word) in decoded.split_whitespace().enumerate() {
            if i > 0 || decoded.starts_with(char::is_whitespace) {
                self.space = true;
            }
            self.literal(word);
        }
        if decoded.ends_with(char::is_whitespace) {
            self.space = true;
        }
    }

    /// Text as it is.
    fn literal(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if self.space && !self.text.is_empty() && !self.text.ends_with(char::is_whitespace) {
            self.text.push(' ');
        }
        self.space = false;
        self.text.push_str(text);
    }

    fn line_break(&mut self) {
        self.space = false;
        self.text.push('\n');
    }

    fn paragraph(&mut self) {
        self.space = false;
        if self.text.is_empty() {
            return;
        }
        let trimmed = self.text.trim_end_matches([' ', '\t']).len();
        self.text.truncate(trimmed);
        while !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn finish(self) -> String {
        let lines: Vec<&str> = self.text.lines().map(str::trim_end).collect();
        let mut out = String::with_capacity(self.text.len());
        let mut blank = 0;
        for line in lines {
            if line.is_empty() {
                blank += 1;
                continue;
            }
            if !out.is_empty() {
                out.push_str(if blank > 0 { "\n\n" } else { "\n" });
            }
            blank = 0;
            out.push_str(line);
        }
        out
    }
}

/// What follows the end tag of the skipped element `name` (case-insensitive), or nothing.
fn skip_element<'a>(name: &str, contents: &'a str) -> &'a str {
    let closing = format!("</{name}");
    let lower = contents.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(&closing) {
        let start = from + found + closing.len();
        // `</scripts>` does not close `<script>`.
        if lower[start..].starts_with(|c: char| c == '>' || c.is_ascii_whitespace() || c == '/') {
            return tag_end(&contents[start..]).map_or("", |end| &contents[start + end..]);
        }
        from = start;
    }
    ""
}

/// `text` with its character references decoded.
fn decode_references(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('&') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match reference(rest) {
            Some((decoded, length)) => {
                out.push_str(&decoded);
                rest = &rest[length..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The text of the reference at the start of `at` (`&...;`) and its length in bytes.
fn reference(at: &str) -> Option<(String, usize)> {
    let end = at.get(1..)?.find(';')? + 1;
    let name = &at[1..end];
    if name.is_empty() || name.len() > 32 {
        return None;
    }
    let text = if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        let c = char::from_u32(code)
            .filter(|&c| c != '\0')
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        c.to_string()
    } else {
        let (_, text) = ENTITIES.iter().find(|(entity, _)| *entity == name)?;
        (*text).to_owned()
    };
    Some((text, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_paragraphs_and_inline_tags_vanish() {
        let html = "<!DOCTYPE html><html><head><title>Guide</title>\
            <style>p { color: red }</style></head><body>\
            <h1>Install</h1><p>Run <code>cargo   add</code>\n  genflow.</p>\
            <ul><li>one</li><li>two</li></ul>line<br>break</body></html>";
        assert_eq!(
            html_to_text(html),
            "Guide\n\nInstall\n\nRun cargo add genflow.\n\none\n\ntwo\n\nline\nbreak"
        );
    }

    #[test]
    fn scripts_comments_and_tricky_attributes_are_not_text() {
        let html = "<p title=\"a > b\" data-x='<p>'>kept</p><!-- <p>gone</p> -->\
            <SCRIPT type=\"text/javascript\">if (a < b && c) { x = '</p>'; }</Script >\
            <p>after</p><script>never closed";
        assert_eq!(html_to_text(html), "kept\n\nafter");
    }

    #[test]
    fn references_are_decoded_and_unknown_ones_kept() {
        let html = "<p>Fish &amp; chips &lt;3 &#233;t&#xE9; &hellip; &nbsp;x &bogus; AT&T &#0;</p>";
        assert_eq!(
            html_to_text(html),
            "Fish & chips <3 été … x &bogus; AT&T \u{FFFD}"
        );
    }

    #[test]
    fn pre_keeps_its_whitespace_and_stray_brackets_are_text() {
        let html =
            "<pre>fn main() {\n    x < 3;\n}</pre><p>1 < 2 and 3 <= 4</p><![CDATA[raw <b>]]>";
        assert_eq!(
            html_to_text(html),
            "fn main() {\n    x < 3;\n}\n\n1 < 2 and 3 <= 4\n\nraw <b>"
        );
    }

    #[test]
    fn table_cells_are_spaced() {
        let html =
            "<table><tr><th>name</th><th>size</th></tr><tr><td>a</td><td>1</td></tr></table>";
        assert_eq!(html_to_text(html), "name size\n\na 1");
    }
}
