import Foundation

/// Work split over the machine's cores inside one conversion (columns of a Parquet row group,
/// row ranges of a CSV or JSON output, halves of a CSV's records).
enum Parallel {
    /// `body(0..<n)` on every core, results in order.
    static func map<T>(_ n: Int, _ body: (Int) -> T) -> [T] {
        if n == 1 { return [body(0)] }
        var results = [T?](repeating: nil, count: n)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: n) { i in
            let r = body(i)
            lock.lock()
            results[i] = r
            lock.unlock()
        }
        return results.map { $0! }
    }

    /// How many parts to format in parallel: one per core for big tables.
    static func parts(_ n: Int) -> Int { n < 50_000 ? 1 : max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) }

    static func range(_ k: Int, of parts: Int, _ n: Int) -> Range<Int> { (n * k / parts)..<(n * (k + 1) / parts) }
}
