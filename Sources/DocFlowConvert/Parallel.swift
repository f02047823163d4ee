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
}
