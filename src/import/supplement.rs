//! `supplement.yaml`: what a district knows that no export carries.

use super::{Draft, Found, ImportReport};
use crate::model::Model;

pub(super) fn read_sync_time(_files: &[Found], _draft: &mut Draft, _report: &mut ImportReport) {}

pub(super) fn read(_files: &[Found], _pack: &Model, _draft: &mut Draft, _report: &mut ImportReport) {}
