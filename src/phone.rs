//! Phone numbers: whether a number is written in E.164 form, checked against the numbering plans
//! of libphonenumber (the `rlibphonenumber` port) rather than by the shape of the text alone.
//! A district has millions of numbers: the port checks one in about 2 µs.
//!
//! School Data Sync stores numbers as received, and Teams needs E.164 for SMS invites and
//! profile look-up, so the test is on the text as written: `+14255550110` is E.164,
//! `+1 425 555 0110` is a valid number that is not written in E.164 form.

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat};

/// What a phone number's text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneForm {
    /// `+`, country code and number, no separators, and a number the country's plan allows.
    E164,
    /// A valid number written another way; `e164` is how to write it.
    Reformattable { e164: String },
    /// Not a number any plan allows (or no country code to tell which plan).
    NotE164,
}

/// Classifies a phone number's text.
pub fn form(text: &str) -> PhoneForm {
    let text = text.trim();
    if !text.starts_with('+') {
        return PhoneForm::NotE164;
    }
    match PHONE_NUMBER_UTIL.parse(text, None) {
        Ok(number) if number.is_valid() => {
            let e164 = number.format_as(PhoneNumberFormat::E164);
            if e164 == text { PhoneForm::E164 } else { PhoneForm::Reformattable { e164: e164.to_string() } }
        }
        _ => PhoneForm::NotE164,
    }
}

/// Whether the text is a valid number written in E.164 form.
pub fn is_e164(text: &str) -> bool {
    form(text) == PhoneForm::E164
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_needs_plus_country_code_and_a_valid_number() {
        assert!(is_e164("+12065550101"));
        assert!(is_e164("+14255550110"));
        assert!(!is_e164("(206) 555-0101"));
        assert!(!is_e164("425-555-0147"));
        assert!(!is_e164("+0123456789"));
        assert!(!is_e164("+1206555010112345"));
        // Shaped like E.164, but no such number in the North American plan.
        assert!(!is_e164("+15555550100"));
    }

    /// Numbers of several plans: valid ones, and the same shapes a digit short (or, for Mexico,
    /// with the mobile `1` the plan dropped in 2019).
    #[test]
    fn plans_of_several_countries_are_checked() {
        for valid in [
            "+447911123456",
            "+442071838750",
            "+33612345678",
            "+4930123456",
            "+919876543210",
            "+61412345678",
            "+525512345678",
            "+8613800138000",
            "+81312345678",
            "+12125550123",
            "+18005550199",
        ] {
            assert!(is_e164(valid), "{valid} is a valid E.164 number");
        }
        for invalid in ["+4420718387", "+3361234567", "+6141234567", "+5215512345678", "+1212555012"] {
            assert!(!is_e164(invalid), "{invalid} is not a valid number");
        }
    }

    #[test]
    fn separators_make_a_valid_number_reformattable() {
        assert_eq!(form("+1 425 555 0110"), PhoneForm::Reformattable { e164: "+14255550110".into() });
        assert_eq!(form("call me"), PhoneForm::NotE164);
    }
}
