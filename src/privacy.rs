//! Guardians' contact details, found by value and hidden from every message tenet writes.
//!
//! A guardian's email or phone number is personal data of a minor's family. Redacting by
//! position (the guardians section, the contact columns) misses a value typed in the wrong
//! place: an email as a mapping key, a phone number in a bool field, a guardian named in a
//! group's members. So messages (diagnostics, import reports, logs, `/readyz`) are filtered by
//! what their text *looks like*, whatever file or field it came from:
//!
//! - an email address is hidden unless its domain is one of the tenant's user domains and it
//!   is not a known guardian's email (a typo in a teacher's UPN stays readable);
//! - a phone number (7 to 15 digits, with the usual `+ ( ) - . /` and single spaces, not a
//!   date) is hidden.
//!
//! Answers (decide, explain, table, test results) name a guardian by their id, the handle the
//! admin queries with; they never show an email or phone otherwise. `--show-contacts` turns the
//! filter off.

use std::borrow::Cow;
use std::collections::HashSet;

/// A set of names, hashed with foldhash: a district's guardians give millions, and nothing here
/// is chosen by someone who could aim for collisions better than the admin's own files.
type Names = HashSet<Box<str>, foldhash::fast::RandomState>;
use std::ops::Range;

/// What a hidden contact detail reads as in a message.
pub const HIDDEN: &str = "<contact hidden>";

/// What a hidden contact detail is replaced with in a source snippet: one per byte, so the
/// snippet's spans still point where they did.
const BLANK: u8 = b'*';

/// What may be shown: the tenant's user domains and the guardians' known emails.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Privacy {
    show: bool,
    user_domains: Names,
    guardian_emails: Names,
    /// Whether a guardian's email has been given: a user domain given after it is not added
    /// (emails there stay hidden), since guardian emails at it were not remembered.
    guardians_given: bool,
}

impl Privacy {
    /// Shows everything (`--show-contacts`).
    pub fn showing_contacts() -> Self {
        Self { show: true, ..Self::default() }
    }

    /// Whether contact details are shown (`--show-contacts`).
    pub fn shows_contacts(&self) -> bool {
        self.show
    }

    /// A user of the tenant: emails at their UPN's domain are shown.
    pub fn user(&mut self, upn: &str) {
        if let Some((_, domain)) = upn.trim().rsplit_once('@')
            && !domain.is_empty()
            && !self.guardians_given
        {
            self.user_domains.insert(domain.to_ascii_lowercase().into());
        }
    }

    /// A guardian's email: hidden even at a user domain (a member of staff who is a parent).
    /// Give every user first: only an email at a user domain needs remembering (any other is
    /// hidden anyway), and a district's guardians are millions, nearly all at other domains.
    /// Each email a message could find in the value is remembered, not only the whole value
    /// (`p@lakeside.edu.` reads as `p@lakeside.edu` in a message).
    pub fn guardian_email(&mut self, email: &str) {
        self.guardians_given = true;
        // Nearly every guardian's address is at a domain no user has: when the value holds
        // none of the (few) user domains, nothing in it needs remembering, and nothing is
        // allocated to find that out.
        let holds =
            |domain: &str| email.as_bytes().windows(domain.len()).any(|w| w.eq_ignore_ascii_case(domain.as_bytes()));
        if self.user_domains.len() <= 16 && !self.user_domains.iter().any(|d| holds(d)) {
            return;
        }
        let email = email.trim().to_ascii_lowercase();
        let domains = &self.user_domains;
        let at_user_domain = |part: &str| part.rsplit_once('@').is_some_and(|(_, d)| domains.contains(d));
        let kept: Vec<Box<str>> = emails(&email)
            .map(|r| &email[r])
            .chain(std::iter::once(email.as_str()))
            .filter(|part| at_user_domain(part))
            .map(Box::from)
            .collect();
        self.guardian_emails.extend(kept);
    }

    /// `text` with each contact detail replaced by [`HIDDEN`].
    pub fn hide<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let found = self.contacts(text);
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for r in found {
            out.push_str(&text[at..r.start]);
            out.push_str(HIDDEN);
            at = r.end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Blanks each contact detail in a source excerpt, and the `also` ranges (values known to
    /// be contact details however they look), byte for byte: offsets into it stay valid.
    pub fn blank(&self, excerpt: &mut String, also: &[Range<usize>]) {
        if self.show {
            return;
        }
        let mut ranges = self.contacts(excerpt);
        ranges.extend(also.iter().map(|r| r.start.min(excerpt.len())..r.end.min(excerpt.len())));
        if ranges.iter().all(|r| r.is_empty()) {
            return;
        }
        let mut bytes = std::mem::take(excerpt).into_bytes();
        let mut blanked = vec![false; bytes.len()];
        for r in ranges {
            blanked[r].iter_mut().for_each(|b| *b = true);
        }
        // A character is blanked whole, so the text stays UTF-8: each of its bytes becomes one
        // `*` when any of them is covered.
        let mut i = 0;
        while i < bytes.len() {
            let width = utf8_width(bytes[i]);
            let end = (i + width).min(bytes.len());
            if blanked[i..end].iter().any(|b| *b) {
                bytes[i..end].iter_mut().for_each(|b| *b = BLANK);
            }
            i = end;
        }
        *excerpt = String::from_utf8(bytes).unwrap_or_default();
    }

    /// Hides contact details in every string of a JSON value.
    pub fn hide_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                if let Cow::Owned(hidden) = self.hide(s) {
                    *s = hidden;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.hide_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.hide_json(v)),
            _ => {}
        }
    }

    /// Byte ranges of `text` holding contact details, in order, not overlapping.
    pub fn contacts(&self, text: &str) -> Vec<Range<usize>> {
        if self.show {
            return Vec::new();
        }
        let mut found: Vec<Range<usize>> = emails(text).filter(|r| !self.shown_email(&text[r.clone()])).collect();
        found.extend(phones(text));
        found.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(found.len());
        for r in found {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    fn shown_email(&self, email: &str) -> bool {
        let email = email.to_ascii_lowercase();
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
        self.user_domains.contains(domain) && !self.guardian_emails.contains(email.as_str())
    }
}

fn utf8_width(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

fn local_char(c: char) -> bool {
    c.is_alphanumeric() || "._%+-'".contains(c)
}

fn domain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '.' || c == '-'
}

/// Email-shaped tokens: something@something, however odd the parts.
fn emails(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    text.match_indices('@').filter_map(move |(at, _)| {
        let before = &text[..at];
        let start = before.char_indices().rev().take_while(|(_, c)| local_char(*c)).last().map_or(at, |(i, _)| i);
        let after = &text[at + 1..];
        let len: usize = after.chars().take_while(|c| domain_char(*c)).map(char::len_utf8).sum();
        let domain = after[..len].trim_end_matches(['.', '-']);
        let local = text[start..at].trim_start_matches('.');
        let start = at - local.len();
        (!local.is_empty() && !domain.is_empty()).then(|| start..at + 1 + domain.len())
    })
}

/// Fewest and most digits of a phone number (E.164 allows 15).
const PHONE_DIGITS: Range<usize> = 7..16;

/// Phone-shaped runs: groups of digits and `+ ( ) - . /`, joined by single spaces, 7 to 15
/// digits in all, not touching a letter or digit on either side. A date (`2025-09-30`) is not
/// a phone number, nor part of one.
fn phones(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let sign = |b: u8| b.is_ascii_digit() || b"+()-./".contains(&b);
    let word = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric() || *b >= 0x80 || *b == b'_');
    // Groups: maximal runs of phone characters, each with its digit count, valid when it
    // touches no word character and is not a date.
    let mut groups: Vec<(Range<usize>, usize, bool)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !sign(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && sign(bytes[i]) {
            i += 1;
        }
        let digits = bytes[start..i].iter().filter(|b| b.is_ascii_digit()).count();
        let valid = digits > 0 && !word(start.wrapping_sub(1)) && !word(i) && !is_date(&text[start..i]);
        groups.push((start..i, digits, valid));
    }
    let mut out = Vec::new();
    let mut g = 0;
    while g < groups.len() {
        // Extend over the following groups joined by one space while the digits fit.
        let (mut digits, mut end, mut best) = (0, g, None);
        while end < groups.len() && groups[end].2 {
            if end > g && &text[groups[end - 1].0.end..groups[end].0.start] != " " {
                break;
            }
            digits += groups[end].1;
            if digits >= PHONE_DIGITS.end {
                break;
            }
            if PHONE_DIGITS.contains(&digits) {
                best = Some(end);
            }
            end += 1;
        }
        match best {
            Some(last) => {
                let start = groups[g].0.start;
                let span = &text[start..groups[last].0.end];
                // Trim what can't end a number (a full stop after it, a dash).
                let trimmed = span.trim_end_matches(|c: char| !c.is_ascii_digit() && c != ')');
                let lead = span.len() - span.trim_start_matches(['.', '-', '/']).len();
                out.push(start + lead..start + trimmed.len());
                g = last + 1;
            }
            None => g += 1,
        }
    }
    out
}

/// `YYYY-MM-DD`, alone or as the start of a timestamp's digits.
fn is_date(group: &str) -> bool {
    let b = group.as_bytes();
    let digits = |r: Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    b.len() >= 10 && digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(text: &str) -> String {
        let mut p = Privacy::default();
        p.user("ana.rivera@lakeside.edu");
        p.guardian_email("Staff.Parent@lakeside.edu");
        p.hide(text).into_owned()
    }

    #[test]
    fn a_guardian_email_is_hidden_however_a_message_cuts_it() {
        let mut p = Privacy::default();
        p.user("ana.rivera@lakeside.edu");
        p.guardian_email("p@lakeside.edu.");
        assert_eq!(p.hide("p@lakeside.edu."), format!("{HIDDEN}."));
        // A user domain given after a guardian is not trusted: emails there stay hidden.
        p.user("staff@district.edu");
        assert_eq!(p.hide("x@district.edu"), HIDDEN);
    }

    #[test]
    fn only_guardian_emails_at_user_domains_are_remembered() {
        let mut p = Privacy::default();
        p.user("ana.rivera@lakeside.edu");
        p.guardian_email("maria.kim@example.com");
        p.guardian_email(" Staff.Parent@Lakeside.edu ");
        assert_eq!(p.guardian_emails.len(), 1);
        assert_eq!(p.hide("maria.kim@example.com"), HIDDEN, "hidden all the same: not at a user domain");
        assert_eq!(p.hide("staff.parent@lakeside.edu"), HIDDEN);
    }

    #[test]
    fn the_quick_look_for_user_domains_misses_none() {
        // Up to 16 user domains are looked for in the value before anything is allocated;
        // with more, every value is read in full. Either way, the same emails are kept.
        for extra in [0, 20] {
            let mut p = Privacy::default();
            p.user("ana.rivera@lakeside.edu");
            for i in 0..extra {
                p.user(&format!("t@school{i}.example.org"));
            }
            p.guardian_email("p1@LAKESIDE.EDU");
            p.guardian_email("mail p2@lakeside.edu. now");
            p.guardian_email("p3@lakeside.education");
            p.guardian_email("p4@gmail.com");
            let mut kept: Vec<&str> = p.guardian_emails.iter().map(|e| &**e).collect();
            kept.sort_unstable();
            assert_eq!(kept, ["p1@lakeside.edu", "p2@lakeside.edu"], "with {extra} more domains");
        }
    }

    #[test]
    fn emails_outside_user_domains_are_hidden() {
        assert_eq!(hidden("unknown `maria.kim@example.com`."), "unknown `<contact hidden>`.");
        assert_eq!(hidden("{maria@example.com: x}"), "{<contact hidden>: x}");
        assert_eq!(hidden("did you mean `ana.rivera@lakeside.edu`?"), "did you mean `ana.rivera@lakeside.edu`?");
        assert_eq!(hidden("a typo: anna.rivera@Lakeside.EDU"), "a typo: anna.rivera@Lakeside.EDU");
        assert_eq!(hidden("staff.parent@lakeside.edu"), HIDDEN, "a known guardian's email, at a user domain");
        assert_eq!(hidden("josé@exämple.org;"), "<contact hidden>;");
        assert_eq!(hidden("an @ alone, @handle, x@"), "an @ alone, @handle, x@");
    }

    #[test]
    fn phone_numbers_are_hidden_whatever_their_shape() {
        for phone in ["+12065550101", "5551234567", "(206) 555-0102", "+1 206 555 0101", "206.555.0103", "555-0100 12"]
        {
            assert_eq!(hidden(&format!("phone: {phone}.")), format!("phone: {HIDDEN}."), "{phone}");
        }
        assert_eq!(hidden("invites_sent: 5551234567 # x"), format!("invites_sent: {HIDDEN} # x"));
    }

    #[test]
    fn numbers_that_are_not_phones_are_kept() {
        for text in [
            "line 12, column 70016",
            "as of 2025-09-30",
            "2025-09-30T10:00:00Z",
            "id 3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "12345678901234567890",
            "a 4 MiB limit: 4,194,304 bytes",
            "user7654321@",
            "rank 1 2 3",
        ] {
            assert_eq!(hidden(text), text);
        }
        assert_eq!(hidden("2025-09-30 5551234567"), format!("2025-09-30 {HIDDEN}"));
    }

    #[test]
    fn blanking_keeps_every_offset() {
        let p = Privacy::default();
        let mut excerpt = "  - email: maría@example.com # phone +1 555 0100 99\n".to_string();
        let len = excerpt.len();
        let first_dash = 2..3;
        p.blank(&mut excerpt, std::slice::from_ref(&first_dash));
        assert_eq!(excerpt.len(), len);
        assert!(!excerpt.contains("example") && !excerpt.contains("555"), "{excerpt}");
        assert!(excerpt.starts_with("  * email: ") && excerpt.contains("# phone "), "{excerpt}");
    }

    #[test]
    fn show_contacts_shows_everything() {
        let p = Privacy::showing_contacts();
        assert_eq!(p.hide("maria@example.com +12065550101"), "maria@example.com +12065550101");
    }
}
