//! Unix shell-style wildcards as Python's `fnmatch` reads them: `*`, `?`, `[abc]`, `[a-z]`,
//! `[!a]`. Case-sensitive, as on POSIX.

/// Whether `text` matches `pattern` as a whole.
pub fn fnmatch(text: &str, pattern: &str) -> bool {
    if !pattern.contains(['*', '?', '[']) {
        return text == pattern;
    }
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    matches(&text, &pattern)
}

fn matches(text: &[char], pattern: &[char]) -> bool {
    let Some((&first, rest)) = pattern.split_first() else {
        return text.is_empty();
    };
    match first {
        '*' => (0..=text.len()).any(|skip| matches(&text[skip..], rest)),
        '?' => !text.is_empty() && matches(&text[1..], rest),
        '[' => match class(rest) {
            Some((members, negated, after)) => text
                .split_first()
                .is_some_and(|(c, tail)| (members(*c) != negated) && matches(tail, after)),
            None => text.first() == Some(&'[') && matches(&text[1..], rest),
        },
        c => text.first() == Some(&c) && matches(&text[1..], rest),
    }
}

/// Parse a `[...]` class body; returns the membership test, negation and the rest.
#[expect(clippy::type_complexity, reason = "a small closure-returning parser")]
fn class(pattern: &[char]) -> Option<(Box<dyn Fn(char) -> bool + '_>, bool, &[char])> {
    let (negated, body) = match pattern.first() {
        Some('!') => (true, &pattern[1..]),
        _ => (false, pattern),
    };
    // A `]` right after the opening bracket is a member.
    let close = body.iter().skip(1).position(|c| *c == ']').map(|i| i + 1)?;
    let members = &body[..close];
    let test = move |c: char| {
        let mut i = 0;
        while i < members.len() {
            if i + 2 < members.len() && members[i + 1] == '-' {
                if members[i] <= c && c <= members[i + 2] {
                    return true;
                }
                i += 3;
            } else {
                if members[i] == c {
                    return true;
                }
                i += 1;
            }
        }
        false
    };
    Some((Box::new(test), negated, &body[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn wildcards() {
        assert!(fnmatch("stg_orders", "stg_*"));
        assert!(fnmatch("a", "?"));
        assert!(!fnmatch("ab", "?"));
        assert!(fnmatch("b", "[abc]"));
        assert!(fnmatch("q", "[a-z]"));
        assert!(!fnmatch("q", "[!a-z]"));
        assert!(fnmatch("anything", "*"));
        assert!(!fnmatch("Stg_x", "stg_*"));
    }
}
