// `Fixture` (files of Tests/Fixtures/diff) lives in TestSupport, shared with the other targets.
@_exported import TestSupport
