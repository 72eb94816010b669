import Gate
import Testing

@testable import Persistence

@Suite struct SQLScriptTests {
    @Test func splitsOnlyAtTopLevelSemicolons() {
        let sql = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'semi;colon', "we;ird" int);
            /* block; comment /* nested; */ */
            CREATE FUNCTION f() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'no; way'; END;
            $$ LANGUAGE plpgsql;
            CREATE FUNCTION g() RETURNS text AS $body$ SELECT 'it''s; $$ fine' $body$ LANGUAGE sql
            """
        let statements = SQLScript.statements(in: sql)
        #expect(statements.count == 3)
        #expect(statements[0] == #"CREATE TABLE a (x text DEFAULT 'semi;colon', "we;ird" int)"#)
        #expect(statements[1].hasPrefix("CREATE FUNCTION f()"))
        #expect(statements[1].hasSuffix("$$ LANGUAGE plpgsql"))
        #expect(statements[1].contains("RAISE EXCEPTION 'no; way'; END;"))
        #expect(statements[2].hasSuffix("$body$ LANGUAGE sql"))
    }

    @Test func emptyInputHasNoStatements() {
        #expect(SQLScript.statements(in: " ;; -- nothing\n").isEmpty)
    }
}
