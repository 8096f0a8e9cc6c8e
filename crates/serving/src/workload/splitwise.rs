//! The Azure 2023 LLM inference traces (Patel et al., "Splitwise", ISCA 2024) in vidur's
//! processed CSV form: a header naming `arrived_at` (seconds from the first request),
//! `num_prefill_tokens` and `num_decode_tokens` (other columns are ignored), then one request
//! a line. The trace carries no text, so each prompt is a fresh span: no request shares a
//! prefix with another.

use simcore::{InputError, SimTime};

use super::builder::CallBuilder;
use super::trace::TraceRequest;

const COLUMNS: [&str; 3] = ["arrived_at", "num_prefill_tokens", "num_decode_tokens"];

/// Parses the CSV `text` of file `name`, at most `limit` requests.
pub fn parse(
    name: &str,
    text: &str,
    limit: usize,
    b: &mut CallBuilder,
) -> Result<Vec<TraceRequest>, InputError> {
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l.trim()).unwrap_or("");
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let mut index = [0usize; 3];
    for (slot, col) in index.iter_mut().zip(COLUMNS) {
        *slot = names.iter().position(|n| *n == col).ok_or_else(|| {
            InputError::data(
                name,
                1,
                format!("the header has no `{col}` column (expected `{}`)", COLUMNS.join(",")),
            )
        })?;
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        if out.len() >= limit {
            break;
        }
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != names.len() {
            return Err(InputError::data(
                name,
                line_no,
                format!("{} fields, the header has {}", fields.len(), names.len()),
            ));
        }
        let arrived: f64 = fields[index[0]]
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| {
                bad(name, line_no, COLUMNS[0], fields[index[0]], "a non-negative number of seconds")
            })?;
        let prefill = tokens(name, line_no, COLUMNS[1], fields[index[1]])?;
        let decode = tokens(name, line_no, COLUMNS[2], fields[index[2]])?;
        out.push(TraceRequest {
            arrival: SimTime::from_secs_f64(arrived),
            prompt: b.text(prefill),
            output_tokens: decode,
        });
    }
    Ok(out)
}

/// A token count of at least 1.
fn tokens(name: &str, line: usize, field: &str, text: &str) -> Result<u32, InputError> {
    text.parse::<u32>()
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| bad(name, line, field, text, "a whole number of tokens, at least 1"))
}

fn bad(name: &str, line: usize, field: &str, text: &str, expected: &str) -> InputError {
    InputError::data(name, line, format!("field `{field}`: {text:?} is not {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_name_and_each_prompt_is_its_own_span() {
        let text =
            "num_decode_tokens,arrived_at,num_prefill_tokens,extra\n3,0.5,10,x\n\n4,1.0,20,y\n";
        let mut b = CallBuilder::new();
        let r = parse("t.csv", text, usize::MAX, &mut b).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].prompt.len(), r[0].output_tokens), (10, 3));
        assert_eq!(r[1].arrival, SimTime::from_secs(1));
        assert_eq!(r[0].prompt.common_prefix_len(&r[1].prompt), 0);
        let mut b = CallBuilder::new();
        assert_eq!(parse("t.csv", text, 1, &mut b).unwrap().len(), 1);
    }

    #[test]
    fn bad_rows_name_line_and_field() {
        let mut b = CallBuilder::new();
        let head = "arrived_at,num_prefill_tokens,num_decode_tokens\n";
        let e = parse("t.csv", &format!("{head}0,0,5\n"), 10, &mut b).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:2: field `num_prefill_tokens`"), "{e}");
        let e = parse("t.csv", &format!("{head}x,1,5\n"), 10, &mut b).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:2: field `arrived_at`"), "{e}");
        let e = parse("t.csv", &format!("{head}0,1\n"), 10, &mut b).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:2: 2 fields"), "{e}");
    }
}
