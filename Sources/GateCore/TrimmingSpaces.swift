extension StringProtocol {
    /// Without leading and trailing spaces and tabs: HTTP's optional whitespace, and
    /// what agents put around addresses. In the standard library, unlike Foundation's
    /// `trimmingCharacters(in:)`, which goes through `NSString` on every call.
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
