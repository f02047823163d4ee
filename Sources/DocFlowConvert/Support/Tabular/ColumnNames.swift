/// Column names every table reader gives alike: an empty name becomes `column_N` (its position
/// from 1) and a repeated one gets `_2`, `_3`… — so a table's names are unique whatever its source.
enum ColumnNames {
    static func unique(_ names: [String]) -> [String] {
        var seen: [String: Int] = [:]
        return names.enumerated().map { i, raw in
            var name = raw.isEmpty ? "column_\(i + 1)" : raw
            if let n = seen[name] { seen[name] = n + 1; name += "_\(n + 1)" } else { seen[name] = 1 }
            return name
        }
    }
}
