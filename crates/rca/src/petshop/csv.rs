//! A minimal CSV reader for the PetShop files: comma-separated fields, optionally quoted
//! with `"` (a doubled `""` inside quotes is one quote), one record a line. Blank lines are
//! skipped; a quoted field may not span lines. Each record keeps its 1-based line number so
//! errors can point at it.

/// One record and the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// 1-based line number.
    pub line: usize,
    /// The fields, unquoted, not trimmed.
    pub fields: Vec<String>,
}

/// The records of `text`, or `(line, message)` for the first malformed one.
pub(crate) fn records(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        out.push(Record { line, fields: split(raw).map_err(|m| (line, m))? });
    }
    Ok(out)
}

/// Splits one line into fields.
fn split(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    let mut column = 1;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
        } else if c == ',' {
            fields.push(std::mem::take(&mut field));
            column += 1;
        } else if c == '"' && field.is_empty() {
            in_quotes = true;
        } else {
            field.push(c);
        }
    }
    if in_quotes {
        return Err(format!(
            "column {column}: a quoted field is not closed before the end of the line \
             (fields may not span lines; write a quote inside quotes as \"\")"
        ));
    }
    fields.push(field);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_plain_and_quoted_fields() {
        let r = records("a,b,,c\n\n\"x,y\",\"say \"\"hi\"\"\",z\r\n").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].fields, ["a", "b", "", "c"]);
        assert_eq!(r[1].line, 3);
        assert_eq!(r[1].fields, ["x,y", "say \"hi\"", "z"]);
    }

    #[test]
    fn an_open_quote_is_an_error_with_its_line() {
        let e = records("a,b\nc,\"d\n").unwrap_err();
        assert_eq!(e.0, 2);
        assert!(e.1.contains("column 2"), "{}", e.1);
    }
}
