//! Checks of a contact's email and phone number, shared by every reader of contacts (School Data
//! Sync, Graph, approvals) so that a contact reads the same whatever file it comes from.
//! Problems never quote an email or number outside `Problem::personal_value`.

use super::report::{At, Problem};
use tenet::unstable::phone::{self, PhoneForm};

/// Whether text is shaped like an email address: one `@`, a dotted domain, no spaces.
pub(super) fn email_ok(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !text.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>' | '"'))
}

/// Checks a contact's phone number: the number to keep (none when the directory would refuse
/// its characters) and a warning. Warnings never quote the number outside `personal_value`.
pub(super) fn check_phone(phone: &str, at: impl FnOnce() -> At) -> (Option<String>, Option<Problem>) {
    let help = "write the number in E.164 form: `+`, the country code and the number, with no spaces or punctuation \
                (`tenet import --show-contacts` shows it)";
    if !tenet::unstable::directory::looks_like_phone(phone) {
        let w = Problem::warning(
            at(),
            "the contact's phone number has characters other than digits, spaces and `+ - . ( )`: it is left out",
        )
        .personal_value(phone)
        .help("fix the number in the student information system and export again");
        return (None, Some(w));
    }
    let warning = match phone::form(phone) {
        PhoneForm::E164 => None,
        PhoneForm::Reformattable { .. } => Some(Problem::warning(
            at(),
            "the contact's phone number is valid but not written in E.164 form: SMS invites and profile look-up need E.164",
        )),
        PhoneForm::NotE164 => Some(Problem::warning(
            at(),
            "the contact's phone number is not in E.164 form (no `+` and country code, or no such number): the guardian gets no SMS invite and can't be looked up by it; calls still go through, with a warning",
        )),
    };
    (Some(phone.to_string()), warning.map(|w| w.personal_value(phone).help(help)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_kept_warned_about_or_left_out() {
        let at = || At::cell(2, 1, "Phone");
        let (kept, warning) = check_phone("+14255550110", at);
        assert_eq!(kept.as_deref(), Some("+14255550110"));
        assert!(warning.is_none());
        let (kept, warning) = check_phone("(425) 555-0110", at);
        assert_eq!(kept.as_deref(), Some("(425) 555-0110"));
        let w = warning.unwrap_or_else(|| Problem::error(at(), "none"));
        assert!(w.message.contains("no SMS invite") && !w.message.contains("555") && !w.help.contains("555"));
        assert!(w.value.is_some_and(|v| v.personal));
        // The directory would refuse these characters: the number is left out, the contact kept.
        let (kept, warning) = check_phone("call 425 555 0110 after 5", at);
        assert_eq!(kept, None);
        assert!(warning.is_some_and(|w| w.message.contains("left out")));
    }

    #[test]
    fn emails_need_one_at_and_a_dotted_domain() {
        assert!(email_ok("maria.kim@example.com"));
        for bad in ["maria.kim", "maria@kim", "a@b@c.com", "m k@example.com", "m@example..com", "@example.com"] {
            assert!(!email_ok(bad), "{bad}");
        }
    }
}
