//! Evaluating a tenant as of a date. The pack models the Parent Connection as the seed article
//! describes it; Microsoft has since announced that the Parents app is retired after
//! 2025-09-30 and SMS invites from 2025-06-30. `--as-of DATE` sets the pack's switches for those
//! retirements (`ParentConnectionLifecycle`) from the date, so explanations cite the date.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{ConfigSource, Model, Value};
use jiff::civil::{Date, date};

/// The configuration object holding the retirement switches.
pub const CONFIG: &str = "ParentConnectionLifecycle";

/// A retirement switch: the setting, the announcement behind it, and whether it is on at a date.
type Switch = (&'static str, &'static str, fn(Date) -> bool);

const SWITCHES: [Switch; 2] = [
    ("ParentsAppRetired", "Microsoft retired the Parents app after 2025-09-30", |d| d > date(2025, 9, 30)),
    ("SmsInvitesRetired", "Microsoft retired SMS invites from 2025-06-30", |d| d >= date(2025, 6, 30)),
];

/// The day `model` is evaluated as of, if [`apply`] set one (a bundle built with `--as-of`).
pub fn day_of(model: &Model) -> Option<Date> {
    model.configs.values().flat_map(|c| &c.values).find_map(|(_, source)| match source {
        ConfigSource::AsOf(day) => Some(*day),
        _ => None,
    })
}

/// Sets the retirement switches of `model` as of `day`, overriding the tenant's values.
pub fn apply(model: &mut Model, day: Date) -> Result<(), Diagnostic> {
    let Some(config) = model.configs.get_mut(CONFIG) else {
        return Err(Diagnostic::error(
            Code::Io,
            format!("--as-of needs the configuration `{CONFIG}` (the bundled Teams pack has it), and this policy set has none"),
        )
        .help("use the bundled pack, or declare `configuration ParentConnectionLifecycle { ParentsAppRetired: bool = false  SmsInvitesRetired: bool = false }`"));
    };
    for (name, _, on) in SWITCHES {
        if let Some(i) = config.schema.settings.get_index_of(name) {
            config.values[i] = (Value::Bool(on(day)), ConfigSource::AsOf(day));
        }
    }
    Ok(())
}

/// Where a switch's value came from, for provenance: `--as-of 2025-10-01 (Microsoft retired …)`.
pub fn source(setting: &str, day: Date) -> String {
    let why = SWITCHES.iter().find(|(name, _, _)| *name == setting).map_or("", |(_, why, _)| why);
    format!("--as-of {day} ({why})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switches_follow_microsofts_dates() {
        let on = |name: &str, d: Date| SWITCHES.iter().find(|s| s.0 == name).map(|s| (s.2)(d));
        assert_eq!(on("ParentsAppRetired", date(2025, 9, 30)), Some(false));
        assert_eq!(on("ParentsAppRetired", date(2025, 10, 1)), Some(true));
        assert_eq!(on("SmsInvitesRetired", date(2025, 6, 29)), Some(false));
        assert_eq!(on("SmsInvitesRetired", date(2025, 6, 30)), Some(true));
    }
}
