//! Text search over names, companies, emails and phone numbers that finds any fragment —
//! including 2-character Chinese names such as 张伟, which word-based full-text search misses —
//! through an inverted index instead of a scan.
//!
//! Each searchable text is normalised (lower case, letters and digits only) and cut into grams:
//! its single characters, then its overlapping pairs of characters. Phone numbers are cut into
//! overlapping triples of digits, marked with a `p` (`p138 p380 …`). A fragment of two or more
//! characters is then a phrase of consecutive pairs, and a digit fragment a phrase of
//! consecutive triples: the index answers with a small superset of the matching records, which
//! the exact `LIKE` check narrows down.

/// Letters and digits, lower-cased: what the index sees of a text.
pub fn normalise(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn push_grams(out: &mut Vec<String>, chars: &[char]) {
    out.extend(chars.iter().map(char::to_string));
    out.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
}

fn phone_grams(digits: &[char]) -> Vec<String> {
    digits
        .windows(3)
        .map(|w| format!("p{}", w.iter().collect::<String>()))
        .collect()
}

/// The grams of a lead: space-separated tokens for the index.
pub fn grams(texts: &[Option<&str>], phone_e164: Option<&str>) -> String {
    let mut out = Vec::new();
    for text in texts.iter().flatten() {
        push_grams(&mut out, &normalise(text));
    }
    if let Some(phone) = phone_e164 {
        let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
        out.extend(phone_grams(&digits));
    }
    out.join(" ")
}

/// What a search string asks the index for: phrases, each a run of consecutive grams. A record
/// matches when it contains any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GramQuery {
    pub phrases: Vec<Vec<String>>,
}

impl GramQuery {
    /// The phrases of `q`, or `None` when it has no letters or digits to look up.
    pub fn parse(q: &str) -> Option<GramQuery> {
        let chars = normalise(q);
        let mut phrases = Vec::new();
        match chars.len() {
            0 => return None,
            1 => phrases.push(vec![chars[0].to_string()]),
            _ => phrases.push(chars.windows(2).map(|w| w.iter().collect()).collect()),
        }
        let digits: Vec<char> = q.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 3 && q.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
            phrases.push(phone_grams(&digits));
        }
        Some(GramQuery { phrases })
    }

    /// The query in SQLite FTS5 syntax: `"a b" OR "c d"`.
    pub fn fts5(&self) -> String {
        self.phrases
            .iter()
            .map(|p| format!("\"{}\"", p.join(" ")))
            .collect::<Vec<_>>()
            .join(" OR ")
    }

    /// The query in PostgreSQL `to_tsquery` syntax: `(a <-> b) | (c <-> d)`.
    pub fn tsquery(&self) -> String {
        self.phrases
            .iter()
            .map(|p| format!("({})", p.join(" <-> ")))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_hold_characters_pairs_and_phone_triples() {
        let g = grams(
            &[Some("张伟"), Some("Acme, Inc."), None],
            Some("+8613800138000"),
        );
        assert!(
            g.starts_with("张 伟 张伟 a c m e i n c ac cm me ei in nc p861 p613"),
            "{g}"
        );
        assert!(g.contains("p800 p000"));
    }

    #[test]
    fn a_fragment_is_a_phrase_of_its_pairs() {
        let q = GramQuery::parse("恒远信息").unwrap();
        assert_eq!(q.fts5(), "\"恒远 远信 信息\"");
        assert_eq!(GramQuery::parse("张").unwrap().fts5(), "\"张\"");
        assert_eq!(
            GramQuery::parse("Acme").unwrap().tsquery(),
            "(ac <-> cm <-> me)"
        );
        assert_eq!(GramQuery::parse("%_'\"").map(|q| q.fts5()), None);
    }

    #[test]
    fn digit_fragments_also_search_phones() {
        let q = GramQuery::parse("139-1234").unwrap();
        assert_eq!(q.phrases.len(), 2);
        assert_eq!(q.phrases[1], ["p139", "p391", "p912", "p123", "p234"]);
        assert_eq!(
            GramQuery::parse("张伟 138").unwrap().phrases.len(),
            1,
            "not a phone fragment"
        );
    }

    #[test]
    fn every_substring_of_a_text_is_found_by_its_phrase() {
        let text = "上海恒远信息科技有限公司";
        let g: Vec<String> = grams(&[Some(text)], None)
            .split(' ')
            .map(str::to_owned)
            .collect();
        let chars: Vec<char> = text.chars().collect();
        for start in 0..chars.len() {
            for end in start + 1..=chars.len() {
                let fragment: String = chars[start..end].iter().collect();
                let phrase = &GramQuery::parse(&fragment).unwrap().phrases[0];
                assert!(
                    g.windows(phrase.len()).any(|w| w == phrase.as_slice()),
                    "{fragment}"
                );
            }
        }
    }
}
