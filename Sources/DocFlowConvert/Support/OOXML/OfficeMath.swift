import DocFlowModel

/// Office Math (OMML, `m:oMath`) as TeX for Markdown (`$…$`, `$$…$$`) and as readable linear
/// text for TXT, PDF and word counts: fractions, scripts, radicals, delimiters, n-ary operators
/// (sums, integrals), functions, accents, bars, limits, equation arrays and matrices. Symbols map
/// to their TeX commands; anything unknown keeps its text.
struct OfficeMath {
    /// Nesting deeper than this keeps its text only (a forged formula could nest without end).
    static let maxDepth = 64

    /// The formula `node` (an `oMath`) as an inline.
    static func inline(_ node: XMLTreeNode, display: Bool) -> Inline {
        .math(tex: tex(node, 0).trimmingCharacters(in: .whitespaces), text: linear(node, 0).trimmingCharacters(in: .whitespaces), display: display)
    }

    // MARK: TeX

    private static func tex(_ n: XMLTreeNode, _ depth: Int) -> String {
        guard depth < maxDepth else { return symbols(n.allText) }
        func arg(_ name: StaticString) -> String { n.child(name).map { tex($0, depth + 1) } ?? "" }
        func chr(_ pr: StaticString, _ fallback: String) -> String {
            guard let p = n.child(pr) else { return fallback }
            if let c = p.child("chr") { return c.attr("val") ?? "" }
            return fallback
        }
        switch n.name {
        case "r": return n.children.filter { $0.is("t") }.map { symbols($0.text) }.joined()
        case "f":
            if n.child("fPr")?.child("type")?.attr("val") == "noBar" { return "{\(arg("num")) \\atop \(arg("den"))}" }
            if n.child("fPr")?.child("type")?.attr("val") == "lin" { return "{\(arg("num"))}/{\(arg("den"))}" }
            return "\\frac{\(arg("num"))}{\(arg("den"))}"
        case "sSup": return "{\(arg("e"))}^{\(arg("sup"))}"
        case "sSub": return "{\(arg("e"))}_{\(arg("sub"))}"
        case "sSubSup": return "{\(arg("e"))}_{\(arg("sub"))}^{\(arg("sup"))}"
        case "sPre": return "{}_{\(arg("sub"))}^{\(arg("sup"))}{\(arg("e"))}"
        case "rad":
            let hidden = n.child("radPr")?.child("degHide").map { $0.attr("val") != "0" && $0.attr("val") != "off" } ?? false
            let deg = arg("deg")
            return hidden || deg.isEmpty ? "\\sqrt{\(arg("e"))}" : "\\sqrt[\(deg)]{\(arg("e"))}"
        case "d":
            let pr = n.child("dPr")
            let open = pr?.child("begChr").map { $0.attr("val") ?? "" } ?? "("
            let close = pr?.child("endChr").map { $0.attr("val") ?? "" } ?? ")"
            let sep = pr?.child("sepChr").map { $0.attr("val") ?? "" } ?? "|"
            let inner = n.children.filter { $0.is("e") }.map { tex($0, depth + 1) }.joined(separator: sep == "|" ? "\\mid " : symbols(sep))
            return "\\left\(delimiter(open)) \(inner) \\right\(delimiter(close))"
        case "nary":
            let op = chr("naryPr", "∫")
            let command = naryCommands[op] ?? symbols(op)
            let limits = n.child("naryPr")
            let sub = limits?.child("subHide").map { $0.attr("val") != "0" } == true ? "" : arg("sub")
            let sup = limits?.child("supHide").map { $0.attr("val") != "0" } == true ? "" : arg("sup")
            return command + (sub.isEmpty ? "" : "_{\(sub)}") + (sup.isEmpty ? "" : "^{\(sup)}") + "{\(arg("e"))}"
        case "func":
            let name = n.child("fName").map { tex($0, depth + 1) } ?? ""
            let known = functions.contains(name.trimmingCharacters(in: .whitespaces))
            return (known ? "\\" + name.trimmingCharacters(in: .whitespaces) : "\\operatorname{\(name)}") + "{\(arg("e"))}"
        case "acc":
            let c = chr("accPr", "\u{0302}")
            return "\(accents[c] ?? "\\hat"){\(arg("e"))}"
        case "bar": return (n.child("barPr")?.child("pos")?.attr("val") == "bot" ? "\\underline" : "\\overline") + "{\(arg("e"))}"
        case "groupChr":
            let below = n.child("groupChrPr")?.child("pos")?.attr("val") != "top"
            return (below ? "\\underbrace" : "\\overbrace") + "{\(arg("e"))}"
        case "limLow": return "{\(arg("e"))}_{\(arg("lim"))}"
        case "limUpp": return "{\(arg("e"))}^{\(arg("lim"))}"
        case "eqArr":
            let rows = n.children.filter { $0.is("e") }.map { tex($0, depth + 1) }
            return rows.count == 1 ? rows[0] : "\\begin{aligned}" + rows.joined(separator: " \\\\ ") + "\\end{aligned}"
        case "m":
            let rows = n.children.filter { $0.is("mr") }.map { r in r.children.filter { $0.is("e") }.map { tex($0, depth + 1) }.joined(separator: " & ") }
            return "\\begin{matrix}" + rows.joined(separator: " \\\\ ") + "\\end{matrix}"
        case "oMathPara", "oMath", "e", "num", "den", "sub", "sup", "deg", "lim", "fName", "box", "borderBox", "phant":
            return n.children.map { tex($0, depth + 1) }.joined()
        default:
            return ""  // properties (…Pr), control properties
        }
    }

    private static func delimiter(_ c: String) -> String {
        switch c {
        case "": return "."
        case "{": return "\\{"
        case "}": return "\\}"
        case "|": return "|"
        case "‖": return "\\|"
        case "⟨", "〈": return "\\langle"
        case "⟩", "〉": return "\\rangle"
        case "⌊": return "\\lfloor"
        case "⌋": return "\\rfloor"
        case "⌈": return "\\lceil"
        case "⌉": return "\\rceil"
        default: return c
        }
    }

    /// Text with TeX's special characters escaped and symbols as their commands.
    private static func symbols(_ s: String) -> String {
        var out = ""
        for ch in s {
            if let cmd = commands[ch] { out += cmd + " "; continue }
            switch ch {
            case "#", "$", "%", "&", "_", "{", "}": out += "\\" + String(ch)
            case "\\": out += "\\backslash "
            case "^": out += "\\hat{}"
            case "~": out += "\\sim "
            case "…": out += "\\ldots "
            default: out.append(ch)
            }
        }
        return out
    }

    private static let naryCommands: [String: String] = ["∑": "\\sum", "∏": "\\prod", "∐": "\\coprod", "∫": "\\int", "∬": "\\iint",
                                                         "∭": "\\iiint", "∮": "\\oint", "⋃": "\\bigcup", "⋂": "\\bigcap",
                                                         "⋁": "\\bigvee", "⋀": "\\bigwedge"]
    private static let functions: Set<String> = ["sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "log", "ln", "exp",
                                                 "lim", "max", "min", "det", "arcsin", "arccos", "arctan", "sup", "inf", "gcd"]
    private static let accents: [String: String] = ["\u{0302}": "\\hat", "\u{0303}": "\\tilde", "\u{0307}": "\\dot", "\u{0308}": "\\ddot",
                                                    "\u{20D7}": "\\vec", "\u{0304}": "\\bar", "\u{0305}": "\\bar", "\u{0306}": "\\breve",
                                                    "\u{030C}": "\\check", "\u{0301}": "\\acute", "\u{0300}": "\\grave"]
    private static let commands: [Character: String] = [
        "α": "\\alpha", "β": "\\beta", "γ": "\\gamma", "δ": "\\delta", "ε": "\\varepsilon", "ϵ": "\\epsilon", "ζ": "\\zeta",
        "η": "\\eta", "θ": "\\theta", "ϑ": "\\vartheta", "ι": "\\iota", "κ": "\\kappa", "λ": "\\lambda", "μ": "\\mu", "ν": "\\nu",
        "ξ": "\\xi", "π": "\\pi", "ϖ": "\\varpi", "ρ": "\\rho", "σ": "\\sigma", "ς": "\\varsigma", "τ": "\\tau", "υ": "\\upsilon",
        "φ": "\\varphi", "ϕ": "\\phi", "χ": "\\chi", "ψ": "\\psi", "ω": "\\omega",
        "Γ": "\\Gamma", "Δ": "\\Delta", "Θ": "\\Theta", "Λ": "\\Lambda", "Ξ": "\\Xi", "Π": "\\Pi", "Σ": "\\Sigma", "Υ": "\\Upsilon",
        "Φ": "\\Phi", "Ψ": "\\Psi", "Ω": "\\Omega",
        "±": "\\pm", "∓": "\\mp", "×": "\\times", "÷": "\\div", "⋅": "\\cdot", "·": "\\cdot", "∗": "\\ast", "∘": "\\circ",
        "≤": "\\leq", "≥": "\\geq", "≠": "\\neq", "≈": "\\approx", "≡": "\\equiv", "∼": "\\sim", "≅": "\\cong", "∝": "\\propto",
        "≪": "\\ll", "≫": "\\gg", "∞": "\\infty", "∂": "\\partial", "∇": "\\nabla", "∈": "\\in", "∉": "\\notin", "∋": "\\ni",
        "⊂": "\\subset", "⊃": "\\supset", "⊆": "\\subseteq", "⊇": "\\supseteq", "∪": "\\cup", "∩": "\\cap", "∅": "\\emptyset",
        "∀": "\\forall", "∃": "\\exists", "¬": "\\neg", "∧": "\\wedge", "∨": "\\vee", "→": "\\to", "←": "\\leftarrow",
        "↔": "\\leftrightarrow", "⇒": "\\Rightarrow", "⇐": "\\Leftarrow", "⇔": "\\Leftrightarrow", "↦": "\\mapsto",
        "−": "-", "′": "'", "ℏ": "\\hbar", "ℓ": "\\ell", "√": "\\surd", "∠": "\\angle", "°": "^{\\circ}", "⊥": "\\perp",
        "∥": "\\parallel", "⋯": "\\cdots", "⋮": "\\vdots", "⋱": "\\ddots", "ℝ": "\\mathbb{R}", "ℕ": "\\mathbb{N}",
        "ℤ": "\\mathbb{Z}", "ℚ": "\\mathbb{Q}", "ℂ": "\\mathbb{C}",
    ]

    // MARK: linear text

    /// The formula as one line of text a reader follows: `x=(−b±√(b²−4ac))/(2a)`.
    private static func linear(_ n: XMLTreeNode, _ depth: Int) -> String {
        guard depth < maxDepth else { return n.allText }
        func arg(_ name: StaticString) -> String { n.child(name).map { linear($0, depth + 1) } ?? "" }
        /// A part that is more than one symbol goes in parentheses.
        func group(_ s: String) -> String { s.count <= 1 || s.allSatisfy(\.isNumber) || s.allSatisfy(\.isLetter) ? s : "(" + s + ")" }
        func script(_ s: String, _ table: [Character: Character], _ mark: String) -> String {
            let mapped = s.compactMap { table[$0] }
            return mapped.count == s.count && !s.isEmpty ? String(mapped) : mark + group(s)
        }
        switch n.name {
        case "r": return n.children.filter { $0.is("t") }.map(\.text).joined()
        case "f": return group(arg("num")) + "/" + group(arg("den"))
        case "sSup": return arg("e") + script(arg("sup"), superscripts, "^")
        case "sSub": return arg("e") + script(arg("sub"), subscripts, "_")
        case "sSubSup": return arg("e") + script(arg("sub"), subscripts, "_") + script(arg("sup"), superscripts, "^")
        case "sPre": return script(arg("sub"), subscripts, "_") + script(arg("sup"), superscripts, "^") + arg("e")
        case "rad":
            let deg = arg("deg")
            let root = deg == "3" ? "∛" : deg == "4" ? "∜" : (deg.isEmpty ? "√" : script(deg, superscripts, "^") + "√")
            return root + group(arg("e"))
        case "d":
            let pr = n.child("dPr")
            let open = pr?.child("begChr").map { $0.attr("val") ?? "" } ?? "("
            let close = pr?.child("endChr").map { $0.attr("val") ?? "" } ?? ")"
            let sep = pr?.child("sepChr").map { $0.attr("val") ?? "" } ?? "|"
            return open + n.children.filter { $0.is("e") }.map { linear($0, depth + 1) }.joined(separator: sep) + close
        case "nary":
            let op = n.child("naryPr")?.child("chr")?.attr("val") ?? "∫"
            let sub = arg("sub"), sup = arg("sup")
            return op + (sub.isEmpty ? "" : script(sub, subscripts, "_")) + (sup.isEmpty ? "" : script(sup, superscripts, "^")) + " " + arg("e")
        case "func": return arg("fName") + group(arg("e"))
        case "acc": return arg("e") + (n.child("accPr")?.child("chr")?.attr("val") ?? "\u{0302}")
        case "bar": return arg("e") + "\u{0305}"
        case "limLow": return arg("e") + script(arg("lim"), subscripts, "_")
        case "limUpp": return arg("e") + script(arg("lim"), superscripts, "^")
        case "eqArr": return n.children.filter { $0.is("e") }.map { linear($0, depth + 1) }.joined(separator: "; ")
        case "m":
            return "[" + n.children.filter { $0.is("mr") }.map { r in r.children.filter { $0.is("e") }.map { linear($0, depth + 1) }.joined(separator: ", ") }
                .joined(separator: "; ") + "]"
        case "oMathPara", "oMath", "e", "num", "den", "sub", "sup", "deg", "lim", "fName", "box", "borderBox", "phant", "groupChr":
            return n.children.map { linear($0, depth + 1) }.joined()
        default:
            return ""
        }
    }

    private static let superscripts: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
                                                               "7": "⁷", "8": "⁸", "9": "⁹", "+": "⁺", "-": "⁻", "−": "⁻", "=": "⁼",
                                                               "(": "⁽", ")": "⁾", "n": "ⁿ", "i": "ⁱ"]
    private static let subscripts: [Character: Character] = ["0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆",
                                                             "7": "₇", "8": "₈", "9": "₉", "+": "₊", "-": "₋", "−": "₋", "=": "₌",
                                                             "(": "₍", ")": "₎", "a": "ₐ", "e": "ₑ", "o": "ₒ", "x": "ₓ", "h": "ₕ",
                                                             "k": "ₖ", "l": "ₗ", "m": "ₘ", "n": "ₙ", "p": "ₚ", "s": "ₛ", "t": "ₜ",
                                                             "i": "ᵢ", "j": "ⱼ", "r": "ᵣ", "u": "ᵤ", "v": "ᵥ"]
}
