//! Reading one School Data Sync CSV file: header checks, streamed rows, counting.

use super::*;

// ------------------------------------------------------------------------------------------
// Reading CSV

pub(super) fn open_csv(found: &Found) -> std::io::Result<(csv::Reader<Box<dyn BufRead>>, text::Encoding)> {
    let (input, encoding) = text::open(&found.path)?;
    let rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    Ok((rdr, encoding))
}

pub(super) fn line_of(record: &ByteRecord) -> usize {
    record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX))
}

/// Counts the rows left in the file.
pub(super) fn count_rest(rdr: &mut csv::Reader<Box<dyn BufRead>>, record: &mut ByteRecord) -> usize {
    let mut n = 0;
    while let Ok(true) = rdr.read_byte_record(record) {
        n += 1;
    }
    n
}

/// The non-empty values of one column of a file whose header is good (nothing reported: the file
/// is read again, with its report, in its turn).
pub(super) fn scan(found: &Found, spec: &Spec, column: &str) -> Vec<String> {
    let Ok((mut rdr, _)) = open_csv(found) else { return Vec::new() };
    let mut record = ByteRecord::new();
    if !matches!(rdr.read_byte_record(&mut record), Ok(true)) {
        return Vec::new();
    }
    let header: Vec<String> = record.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
    let check = check_header(spec, &header);
    let Some(index) = check.cols.map.get(column).map(|(i, _)| *i).filter(|_| check.ok()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Ok(true) = rdr.read_byte_record(&mut record) {
        if let Some(value) = record.get(index).and_then(|b| std::str::from_utf8(b).ok()).map(str::trim)
            && !value.is_empty()
        {
            out.push(value.to_string());
        }
    }
    out
}

/// The columns a header has: canonical name → index and the header as written.
pub(super) struct Columns {
    pub(super) map: HashMap<&'static str, (usize, String)>,
}

pub(super) struct HeaderCheck {
    pub(super) cols: Columns,
    pub(super) missing: Vec<&'static str>,
    /// Headers that differ from a v2.1 column only in case: (as written, as defined).
    pub(super) miscased: Vec<(String, &'static str)>,
    pub(super) unknown: BTreeSet<String>,
    pub(super) repeated: Vec<String>,
}

impl HeaderCheck {
    pub(super) fn ok(&self) -> bool {
        self.missing.is_empty() && self.miscased.is_empty()
    }
}

pub(super) fn check_header(spec: &Spec, header: &[String]) -> HeaderCheck {
    let known = || spec.required.iter().chain(spec.optional).copied();
    let mut map = HashMap::new();
    let mut unknown = BTreeSet::new();
    let mut repeated = Vec::new();
    let mut near = Vec::new();
    for (i, written) in header.iter().enumerate() {
        let h = written.trim();
        if h.is_empty() {
            continue;
        }
        let exact = known().find(|c| *c == h || (spec.version == V1 && c.eq_ignore_ascii_case(h)));
        if let Some(c) = exact {
            if map.contains_key(c) {
                repeated.push(h.to_string());
            } else {
                map.insert(c, (i, h.to_string()));
            }
        } else if let Some(c) = known().find(|c| c.eq_ignore_ascii_case(h)) {
            near.push((h.to_string(), c));
        } else {
            unknown.insert(h.to_string());
        }
    }
    let mut miscased = Vec::new();
    for (written, c) in near {
        if map.contains_key(c) {
            unknown.insert(written);
        } else {
            miscased.push((written, c));
        }
    }
    let missing = spec
        .required
        .iter()
        .copied()
        .filter(|c| !map.contains_key(c) && !miscased.iter().any(|(_, m)| m == c))
        .collect();
    HeaderCheck { cols: Columns { map }, missing, miscased, unknown, repeated }
}

/// Whether header text looks like a contact detail (a file without its header row).
pub(super) fn looks_personal(text: &str) -> bool {
    text.contains('@') || text.chars().filter(char::is_ascii_digit).count() >= 7
}

pub(super) fn header_error(spec: &Spec, header: &[String], check: &HeaderCheck, line: usize, rows: usize) -> Problem {
    let mut parts = Vec::new();
    for (written, defined) in &check.miscased {
        parts.push(format!(
            "column `{written}` must be written `{defined}`: SDS v2.1 column headers are case-sensitive"
        ));
    }
    if !check.missing.is_empty() {
        let names: Vec<String> = check.missing.iter().map(|c| format!("`{c}`")).collect();
        parts.push(format!(
            "{} {} has no {} column{}, which the format requires",
            spec.version.label(),
            spec.name,
            names.join(", "),
            if names.len() == 1 { "" } else { "s" }
        ));
    }
    let shown = header.join(",");
    let data = header.iter().any(|h| looks_personal(h));
    let mut message = parts.join("; ");
    if data {
        message.push_str("; the first line looks like data, not a header row");
    } else {
        message.push_str(&format!("; the header is `{shown}`"));
    }
    message.push_str(&match rows {
        0 => " (the file has no rows)".to_string(),
        1 => " (its 1 row is rejected)".to_string(),
        n => format!(" (all {n} rows are rejected)"),
    });
    let field = check.miscased.first().map(|(w, _)| w.clone()).or_else(|| check.missing.first().map(|c| c.to_string()));
    let help = if check.miscased.is_empty() {
        format!(
            "{}the header row of {} needs the columns {}",
            if data {
                "add the header row; "
            } else if check.missing.len() == 1 {
                "add the missing column; "
            } else {
                "add the missing columns; "
            },
            spec.name,
            spec.required.join(", ")
        )
    } else {
        let names: Vec<String> = check.miscased.iter().map(|(_, d)| format!("`{d}`")).collect();
        format!("rename the header to {} exactly", names.join(", "))
    };
    let p = Problem::error(At { line: Some(line), row: None, field }, message).help(help);
    if data { p.personal_value(shown) } else { p }
}

/// One data row.
pub(super) struct Row<'a> {
    pub(super) file: usize,
    pub(super) line: usize,
    pub(super) row: usize,
    pub(super) fields: Vec<&'a str>,
    pub(super) cols: &'a Columns,
}

impl Row<'_> {
    /// The trimmed value of a column ("" when absent).
    pub(super) fn get(&self, col: &str) -> &str {
        self.cols.map.get(col).and_then(|(i, _)| self.fields.get(*i)).map_or("", |s| s.trim())
    }

    /// The column's header as the file writes it.
    pub(super) fn col<'c>(&'c self, col: &'c str) -> &'c str {
        self.cols.map.get(col).map_or(col, |(_, w)| w.as_str())
    }

    pub(super) fn at(&self, col: &str) -> At {
        At::cell(self.line, self.row, self.col(col))
    }

    pub(super) fn whole(&self) -> At {
        At { line: Some(self.line), row: Some(self.row), field: None }
    }

    pub(super) fn origin(&self) -> Origin {
        Origin { file: self.file, row: self.row }
    }
}

pub(super) type Handler = fn(&mut State, &mut Draft, &Row<'_>, &mut FileReport);

pub(super) fn handler(part: Part) -> Option<Handler> {
    Some(match part {
        Part::School => school,
        Part::Orgs => org,
        Part::Teacher => v1_teacher,
        Part::Student => v1_student,
        Part::Users => v2_user,
        Part::Roles => v2_role,
        Part::Section => v1_section,
        Part::Classes => v2_class,
        Part::TeacherRoster => v1_owner,
        Part::StudentEnrollment => v1_enrolled,
        Part::Enrollments => v2_enrollment,
        Part::GuardianUser => v1_contact,
        Part::GuardianRelationship => v1_link,
        Part::Relationships => v2_link,
        Part::Unused => return None,
    })
}

pub(super) const SAVE_UTF8: &str =
    "save the file as UTF-8: in Excel, \"CSV UTF-8 (Comma delimited)\"; in PowerShell 7, `-Encoding utf8`";

/// Reads one file: its header, then every row through the part's handler.
pub(super) fn read_table(
    st: &mut State,
    draft: &mut Draft,
    report: &mut ImportReport,
    file: usize,
    found: &Found,
    spec: &Spec,
) {
    let format = st.formats.get(file).cloned().unwrap_or_default();
    let (mut rdr, encoding) = match open_csv(found) {
        Ok(x) => x,
        Err(e) => {
            report.file(&found.shown, &format).note(
                Problem::error(At::file(), format!("can't read the file: {e}"))
                    .help("save it as UTF-8 (Excel: \"CSV UTF-8 (Comma delimited)\") or as UTF-16 with a byte order mark, and import again"),
            );
            return;
        }
    };
    let f = report.file(&found.shown, &format);
    f.encoding = encoding.to_string();
    let mut record = ByteRecord::new();
    match rdr.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            let cols = if spec.required.is_empty() { String::new() } else { format!(": {}", spec.required.join(", ")) };
            f.note(
                Problem::error(At::file(), format!("the file is empty: {} needs at least its header row", spec.name))
                    .help(format!("export the file again with its header row{cols}")),
            );
            return;
        }
        Err(e) => {
            f.note(read_error(&e));
            return;
        }
    }
    let header_line = line_of(&record).max(1);
    let header: Result<Vec<String>, _> = record.iter().map(|b| std::str::from_utf8(b).map(str::to_string)).collect();
    let Ok(header) = header else {
        let n = count_rest(&mut rdr, &mut record);
        reject_all(
            f,
            n,
            Problem::error(At::line(header_line), "the header row is not UTF-8 text, so no column can be read")
                .help(SAVE_UTF8),
        );
        return;
    };
    let Some(handle) = handler(spec.part) else {
        let n = count_rest(&mut rdr, &mut record);
        ignore_all(
            f,
            n,
            Problem::warning(
                At::file(),
                format!(
                    "{} is counted only: tenet doesn't need it for Parents decisions, so its {n} row{} {} not used",
                    spec.name,
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" }
                ),
            )
            .help("nothing to fix: the file is listed so every file given is accounted for"),
        );
        return;
    };
    let check = check_header(spec, &header);
    f.unknown_properties.extend(check.unknown.iter().cloned());
    for r in &check.repeated {
        f.note(
            Problem::warning(
                At { line: Some(header_line), row: None, field: Some(r.clone()) },
                format!("column `{r}` appears twice in the header: the first is read"),
            )
            .help("remove the repeated column"),
        );
    }
    if !check.ok() {
        let n = count_rest(&mut rdr, &mut record);
        reject_all(f, n, header_error(spec, &header, &check, header_line, n));
        return;
    }
    match spec.part {
        Part::School => {
            st.schools.get_or_insert_with(HashMap::new);
        }
        Part::Orgs => {
            st.orgs.get_or_insert_with(HashMap::new);
        }
        _ => {}
    }
    let cols = check.cols;
    let mut row = 0;
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                f.note(read_error(&e));
                break;
            }
        }
        row += 1;
        let line = line_of(&record);
        let whole = At { line: Some(line), row: Some(row), field: None };
        let mut fields = Vec::with_capacity(record.len());
        let mut bad = None;
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) => fields.push(s),
                Err(_) => {
                    bad = Some(i);
                    break;
                }
            }
        }
        if let Some(i) = bad {
            let column = header.get(i).map_or_else(|| format!("column {}", i + 1), |h| h.trim().to_string());
            f.reject(
                Problem::error(
                    At::cell(line, row, &column),
                    "the row is not UTF-8 text (the file was saved in another encoding, such as Windows-1252)",
                )
                .help(SAVE_UTF8),
            );
            continue;
        }
        if fields.iter().all(|s| s.trim().is_empty()) {
            f.ignore(Problem::warning(whole, "the row is empty").help("remove empty rows"));
            continue;
        }
        if fields.len() != header.len() {
            f.reject(
                Problem::error(
                    whole,
                    format!("the row has {} fields but the header has {} columns", fields.len(), header.len()),
                )
                .help("check for a missing or extra comma: a value that holds a comma must be in double quotes"),
            );
            continue;
        }
        let r = Row { file, line, row, fields, cols: &cols };
        if let Some(c) = spec.filled.iter().find(|c| r.get(c).is_empty()) {
            f.reject(
                Problem::error(r.at(c), format!("`{}` is empty: every {} needs it", r.col(c), spec.row))
                    .help(format!("fill in `{}`, or remove the row", r.col(c))),
            );
            continue;
        }
        handle(st, draft, &r, f);
    }
    for (i, p) in std::mem::take(&mut st.pending) {
        let (shown, format) =
            (st.shown.get(i).cloned().unwrap_or_default(), st.formats.get(i).cloned().unwrap_or_default());
        report.file(&shown, &format).note(p);
    }
}

pub(super) fn read_error(e: &csv::Error) -> Problem {
    let line = e.position().map(|p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    Problem::error(At { line, ..At::default() }, format!("can't read the file past this point: {e}"))
        .help("the rest of the file is not read: export it again")
}

/// Counts rows refused as a whole (the header is unusable); `error` says why.
pub(super) fn reject_all(f: &mut FileReport, rows: usize, error: Problem) {
    f.read += rows;
    f.rejected += rows;
    f.note(error);
}

/// Counts rows deliberately not used; `warning` says why.
pub(super) fn ignore_all(f: &mut FileReport, rows: usize, warning: Problem) {
    f.read += rows;
    f.ignored += rows;
    f.note(warning);
}

/// The row went into the tenant, with these caveats.
pub(super) fn finish(f: &mut FileReport, warnings: Vec<Problem>) {
    f.use_one();
    for w in warnings {
        f.note(w);
    }
}

pub(super) fn full_name(first: &str, last: &str) -> Option<String> {
    let name = [first.trim(), last.trim()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    (!name.is_empty()).then_some(name)
}

pub(super) fn duplicate(f: &mut FileReport, at: At, message: String, help: &str) {
    f.reject(Problem::error(at, message).help(help));
}
