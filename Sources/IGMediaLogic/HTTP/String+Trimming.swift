extension String {
    /// Trims Unicode scalars, not Characters: in `" \t\r\n"` the `\r\n` is one Character, so a
    /// Character set would never trim a lone `\r` or `\n`.
    func trimmingCharacters(in set: String) -> String {
        let scalars = Set(set.unicodeScalars)
        var s = Substring(self).unicodeScalars[...]
        while let f = s.first, scalars.contains(f) { s.removeFirst() }
        while let l = s.last, scalars.contains(l) { s.removeLast() }
        return String(Substring(s))
    }
}
