extension String {
    /// C0 controls or DEL: refused in names, ids and codes (and Postgres cannot store U+0000).
    public var containsControlCharacters: Bool {
        unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}
