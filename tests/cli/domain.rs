//! The scenario suite: the domain's operations (create, patch, delete, show, list) and the
//! rules across rows and the database, called below the binary, through the library. Each
//! scenario takes a [`Scenario`] and runs on every backend listed in `scenarios!` (SQLite
//! today; the PostgreSQL backend adds its line there).

use ucsv::columns::Col;
use ucsv::domain::ops::DeleteOptions;
use ucsv::domain::Domain;
use ucsv::record::draft;
use ucsv::store::reference::{Reference, ReferenceFile};
use ucsv::store::tx::{Filter, Page, UserKey};
use ucsv::store::Store;

/// A fresh database with the default reference data, on one backend.
struct Scenario {
    _dir: tempfile::TempDir,
    store: Store,
    reference: Reference,
    /// The PostgreSQL database, dropped after the scenario (fields drop in order: the
    /// store's connection is closed first).
    _pg: Option<crate::workdir::PgDatabase>,
}

impl Scenario {
    /// A fresh PostgreSQL database on the server `UCSV_TEST_POSTGRES` names (the CI runs
    /// these scenarios with it: `-- --include-ignored`).
    fn postgres() -> Scenario {
        let admin = crate::workdir::postgres_server()
            .expect("UCSV_TEST_POSTGRES names the PostgreSQL server these scenarios run on");
        let pg = crate::workdir::PgDatabase::create(&admin);
        let store = Store::create(
            std::path::Path::new(&pg.url),
            &ReferenceFile::embedded_default(),
            "the embedded default",
        )
        .expect("create the database");
        let reference = Reference::load(&store).expect("load the reference data");
        Scenario {
            _dir: tempfile::tempdir().expect("temp dir"),
            store,
            reference,
            _pg: Some(pg),
        }
    }

    fn sqlite() -> Scenario {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::create(
            &dir.path().join("scenario.db"),
            &ReferenceFile::embedded_default(),
            "the embedded default",
        )
        .expect("create the database");
        let reference = Reference::load(&store).expect("load the reference data");
        Scenario {
            _dir: dir,
            store,
            reference,
            _pg: None,
        }
    }

    /// Runs `f` in one transaction, committed afterwards.
    fn tx<T>(&mut self, f: impl FnOnce(&mut Domain) -> T) -> T {
        let tx = self.store.begin().expect("begin");
        let mut domain = Domain::new(tx, &self.reference, None);
        let out = f(&mut domain);
        domain.commit().expect("commit");
        out
    }

    /// Creates a user from cells and returns its uuid; panics on any error.
    fn create(&mut self, cells: &[(Col, &str)]) -> String {
        self.tx(|d| match d.create(&draft(cells, 1)).expect("create") {
            Ok((created, _)) => created.user_uuid,
            Err(errors) => panic!("create {cells:?}: {errors:?}"),
        })
    }

    /// The error codes of creating a user from cells (empty when it was created).
    fn create_codes(&mut self, cells: &[(Col, &str)]) -> Vec<String> {
        self.tx(|d| match d.create(&draft(cells, 1)).expect("create") {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.code).collect(),
        })
    }

    /// A user's exported cell.
    fn cell(&mut self, uuid: &str, col: Col) -> String {
        self.tx(|d| {
            let user = d
                .show(&UserKey::Uuid(uuid.into()))
                .expect("show")
                .unwrap_or_else(|| panic!("no user {uuid}"));
            user.get(col).to_string()
        })
    }
}

const LINE: [(Col, &str); 3] = [
    (Col::LineProtocol, "sip"),
    (Col::Context, "default"),
    (Col::Exten, "1000"),
];

fn with_line<'a>(name: &'a str, exten: &'a str) -> Vec<(Col, &'a str)> {
    vec![
        (Col::Firstname, name),
        (Col::LineProtocol, "sip"),
        (Col::Context, "default"),
        (Col::Exten, exten),
    ]
}

fn with_voicemail<'a>(name: &'a str, number: &'a str) -> Vec<(Col, &'a str)> {
    vec![
        (Col::Firstname, name),
        (Col::VoicemailName, name),
        (Col::VoicemailNumber, number),
        (Col::VoicemailContext, "default"),
    ]
}

fn create_then_show_by_uuid_and_by_id(s: &mut Scenario) {
    let mut cells = vec![(Col::Firstname, "Ann"), (Col::Email, "ann@example.com")];
    cells.extend(LINE);
    let uuid = s.create(&cells);
    let (by_uuid, by_id) = s.tx(|d| {
        let a = d
            .show(&UserKey::Uuid(uuid.to_uppercase()))
            .unwrap()
            .unwrap();
        let b = d.show(&UserKey::Id(a.id)).unwrap().unwrap();
        (a, b)
    });
    assert_eq!(by_uuid, by_id);
    assert_eq!(by_uuid.get(Col::Firstname), "Ann");
    assert_eq!(by_uuid.get(Col::Exten), "1000");
    assert_eq!(by_uuid.get(Col::LineProtocol), "sip");
    assert!(!by_uuid.get(Col::SipUsername).is_empty(), "generated");
    assert_eq!(s.tx(|d| d.show(&UserKey::Id(999)).unwrap()), None);
}

fn unique_values_are_refused_across_users(s: &mut Scenario) {
    s.create(&[(Col::Firstname, "Ann"), (Col::Email, "ann@example.com")]);
    assert_eq!(
        s.create_codes(&[(Col::Firstname, "Bob"), (Col::Email, "ANN@example.com")]),
        ["email.duplicate"],
        "e-mail addresses are compared without case"
    );
    s.create(&[
        (Col::Firstname, "Cid"),
        (Col::Username, "cid"),
        (Col::Password, "secret1"),
    ]);
    assert_eq!(
        s.create_codes(&[(Col::Firstname, "Dan"), (Col::Username, "cid")]),
        ["username.duplicate"]
    );
}

fn numbers_in_use_and_outside_ranges_are_refused(s: &mut Scenario) {
    s.create(&with_line("Ann", "1000"));
    assert_eq!(s.create_codes(&with_line("Bob", "1000")), ["exten.in_use"]);
    assert_eq!(
        s.create_codes(&with_line("Bob", "3000")),
        ["exten.outside_range"]
    );
}

fn a_second_user_of_a_voicemail_box_shares_it_with_a_warning(s: &mut Scenario) {
    s.create(&with_voicemail("Ann", "1100"));
    let (created, warnings) = s.tx(|d| {
        d.create(&draft(&with_voicemail("Bob", "1100"), 1))
            .unwrap()
            .expect("shared, not refused")
    });
    let codes: Vec<_> = warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["voicemail_number.shared"]);
    assert!(!created.voicemail_created);
}

fn patch_changes_the_given_columns_and_keeps_the_rules(s: &mut Scenario) {
    let uuid = s.create(&with_line("Ann", "1000"));
    let changed = s.tx(|d| {
        let (updated, _) = d
            .patch(&uuid, &[(Col::Lastname, "Smith"), (Col::Exten, "1001")])
            .unwrap()
            .expect("valid patch");
        updated.expect("something changed").changed
    });
    assert_eq!(changed, ["lastname", "exten"]);
    assert_eq!(s.cell(&uuid, Col::Lastname), "Smith");
    assert_eq!(s.cell(&uuid, Col::Exten), "1001");
    let unchanged = s.tx(|d| d.patch(&uuid, &[(Col::Lastname, "Smith")]).unwrap());
    assert!(matches!(unchanged, Ok((None, _))), "{unchanged:?}");
    let codes = |r: Result<_, Vec<ucsv::error::RowError>>| match r {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.code).collect::<Vec<_>>(),
    };
    let refused = s.tx(|d| d.patch(&uuid, &[(Col::LineProtocol, "sccp")]).unwrap());
    assert_eq!(codes(refused.map(drop)), ["line_protocol.immutable"]);
    let refused = s.tx(|d| d.patch(&uuid, &[(Col::Firstname, "")]).unwrap());
    assert_eq!(codes(refused.map(drop)), ["firstname.cannot_unset"]);
    let unknown = s.tx(|d| {
        d.patch(
            "0190a000-0000-7000-8000-0000000000ff",
            &[(Col::Lastname, "X")],
        )
        .unwrap()
    });
    assert_eq!(codes(unknown.map(drop)), ["uuid.unknown"]);
}

fn delete_refuses_a_user_owning_a_voicemail_unless_asked(s: &mut Scenario) {
    let mut cells = with_voicemail("Ann", "1100");
    cells.extend(LINE);
    let uuid = s.create(&cells);
    let key = UserKey::Uuid(uuid.clone());
    let refused = s.tx(|d| d.delete(&key, DeleteOptions::default()).unwrap());
    assert_eq!(
        refused.map_err(|e| e.code),
        Err("user.owns_voicemail".into())
    );
    assert!(s.tx(|d| d.show(&key).unwrap()).is_some(), "nothing deleted");
    let deleted = s.tx(|d| {
        d.delete(
            &key,
            DeleteOptions {
                delete_voicemail: true,
            },
        )
        .unwrap()
        .expect("deleted")
    });
    assert_eq!(deleted.user_uuid, uuid);
    assert!(deleted.voicemail_id.is_some());
    assert!(s.tx(|d| d.show(&key).unwrap()).is_none());
    // The number and the box are free again.
    s.create(&cells);
}

fn delete_keeps_a_shared_voicemail_box_and_frees_the_numbers(s: &mut Scenario) {
    let ann = s.create(&with_voicemail("Ann", "1100"));
    let mut bob = with_voicemail("Bob", "1100");
    bob.extend([
        (Col::LineProtocol, "sip"),
        (Col::Context, "default"),
        (Col::Exten, "1001"),
        (Col::IncallExten, "2001"),
        (Col::IncallContext, "from-extern"),
    ]);
    let bob_uuid = s.create(&bob);
    let deleted = s.tx(|d| {
        d.delete(&UserKey::Uuid(bob_uuid.clone()), DeleteOptions::default())
            .unwrap()
            .expect("a shared box does not stop the delete")
    });
    assert_eq!(deleted.voicemail_id, None, "the shared box stays");
    assert_eq!(s.cell(&ann, Col::VoicemailNumber), "1100");
    let mut again = with_line("Cid", "1001");
    again.extend([
        (Col::IncallExten, "2001"),
        (Col::IncallContext, "from-extern"),
    ]);
    assert_eq!(
        s.create_codes(&again),
        Vec::<String>::new(),
        "numbers freed"
    );
    let unknown = s.tx(|d| {
        d.delete(&UserKey::Uuid(bob_uuid), DeleteOptions::default())
            .unwrap()
    });
    assert_eq!(unknown.map_err(|e| e.code), Err("user.unknown".into()));
}

fn list_filters_pages_and_counts(s: &mut Scenario) {
    for (name, exten) in [
        ("Ann", "1000"),
        ("Bob", "1001"),
        ("Annie", "1002"),
        ("Cid", "1010"),
    ] {
        s.create(&with_line(name, exten));
    }
    let names = |users: &[ucsv::store::tx::UserView]| -> Vec<String> {
        users
            .iter()
            .map(|u| u.get(Col::Firstname).to_string())
            .collect()
    };
    let (all, total) = s.tx(|d| d.list(&Filter::default(), Page::default()).unwrap());
    assert_eq!(
        (names(&all), total),
        (
            vec!["Ann".into(), "Bob".into(), "Annie".into(), "Cid".into()],
            4
        )
    );
    let search = Filter {
        search: Some("ANN".into()),
        ..Filter::default()
    };
    let (found, total) = s.tx(|d| d.list(&search, Page::default()).unwrap());
    assert_eq!(
        (names(&found), total),
        (vec!["Ann".into(), "Annie".into()], 2)
    );
    let by_exten = Filter {
        search: Some("101".into()),
        ..Filter::default()
    };
    let (found, _) = s.tx(|d| d.list(&by_exten, Page::default()).unwrap());
    assert_eq!(names(&found), ["Cid"]);
    let page = Page {
        limit: Some(2),
        offset: 1,
    };
    let (paged, total) = s.tx(|d| d.list(&Filter::default(), page).unwrap());
    assert_eq!(
        (names(&paged), total),
        (vec!["Bob".into(), "Annie".into()], 4)
    );
    let literal = Filter {
        search: Some("%".into()),
        ..Filter::default()
    };
    assert_eq!(
        s.tx(|d| d.list(&literal, Page::default()).unwrap()).1,
        0,
        "% is literal"
    );
}

fn a_transaction_dropped_without_commit_writes_nothing(s: &mut Scenario) {
    {
        let tx = s.store.begin().expect("begin");
        let mut d = Domain::new(tx, &s.reference, None);
        d.create(&draft(&with_line("Ann", "1000"), 1))
            .unwrap()
            .expect("created");
    }
    let (_, total) = s.tx(|d| d.list(&Filter::default(), Page::default()).unwrap());
    assert_eq!(total, 0);
}

/// One test per scenario and backend.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&mut super::Scenario::sqlite());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                #[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
                fn $name() {
                    super::$name(&mut super::Scenario::postgres());
                }
            )*
        }
    };
}

scenarios!(
    create_then_show_by_uuid_and_by_id,
    unique_values_are_refused_across_users,
    numbers_in_use_and_outside_ranges_are_refused,
    a_second_user_of_a_voicemail_box_shares_it_with_a_warning,
    patch_changes_the_given_columns_and_keeps_the_rules,
    delete_refuses_a_user_owning_a_voicemail_unless_asked,
    delete_keeps_a_shared_voicemail_box_and_frees_the_numbers,
    list_filters_pages_and_counts,
    a_transaction_dropped_without_commit_writes_nothing,
);
