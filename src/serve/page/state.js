// The page's state, shared by its modules: who is signed in and where, the file picked and
// what the server said of it, the last import, the users table's page and the undo being
// previewed. It lives in this module's memory only, the credentials with the rest (see
// api.js): nothing of it outlives the tab.

export const state = {
  creds: null, // { name, header }: the Basic header, in memory only
  entities: [], // [{ id, name, role }] from /1.1/me
  entity: null, // the Wazo-Tenant sent
  reader: false, // the account only reads in the entity (viewer)
  file: null, // the File picked
  encoding: null, // { label, shown, charset, note }
  head: null, // the first records: { delimiter, header, rows: [{ line, row, cells }], complete }
  check: null, // the dry run's report
  checkXhr: null,
  applyXhr: null,
  result: null, // { report, file, encoding, mode } of the last import or update
  generation: 0, // bumped when the file, the action or the entity changes
  users: { offset: 0, limit: 20, search: '', order: '', direction: 'asc', generation: 0 },
  undo: null, // the batch whose undo is previewed
};
