// swift-tools-version:6.2
import PackageDescription

// C libraries: one system-library target each (pkg-config name, Debian package).
let cLibraries: [Target] = [
    .systemLibrary(name: "CFastCGI", path: "Sources/CFastCGI", providers: [.apt(["libfcgi-dev"])]),
    .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
    .systemLibrary(name: "CCmarkGFM", path: "Sources/CCmarkGFM", pkgConfig: "libcmark-gfm",
                   providers: [.apt(["libcmark-gfm-dev", "libcmark-gfm-extensions-dev"])]),
    .systemLibrary(name: "CLibMagic", path: "Sources/CLibMagic", pkgConfig: "libmagic", providers: [.apt(["libmagic-dev"])]),
    .systemLibrary(name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
    .systemLibrary(name: "CPangoCairo", path: "Sources/CPangoCairo", pkgConfig: "pangocairo",
                   providers: [.apt(["libpango1.0-dev", "libcairo2-dev"])]),
    .systemLibrary(name: "CHarfBuzz", path: "Sources/CHarfBuzz", pkgConfig: "harfbuzz-subset",
                   providers: [.apt(["libharfbuzz-dev", "libfontconfig-dev", "libdeflate-dev"])]),
    .systemLibrary(name: "CCompression", path: "Sources/CCompression",
                   providers: [.apt(["libsnappy-dev", "libzstd-dev", "zlib1g-dev", "liblz4-dev", "libbrotli-dev"])]),
    .systemLibrary(name: "CXLSXWriter", path: "Sources/CXLSXWriter", pkgConfig: "xlsxwriter", providers: [.apt(["libxlsxwriter-dev"])]),
    .systemLibrary(name: "CLibZip", path: "Sources/CLibZip", pkgConfig: "libzip", providers: [.apt(["libzip-dev"])]),
    .systemLibrary(name: "CPopplerCore", path: "Sources/CPopplerCore", pkgConfig: "poppler", providers: [.apt(["libpoppler-private-dev"])]),
    .systemLibrary(name: "CGdkPixbuf", path: "Sources/CGdkPixbuf", pkgConfig: "gdk-pixbuf-2.0", providers: [.apt(["libgdk-pixbuf-2.0-dev"])]),
    .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
    .systemLibrary(name: "CLibCrypto", path: "Sources/CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CUchardet", path: "Sources/CUchardet", pkgConfig: "uchardet", providers: [.apt(["libuchardet-dev"])]),
    .systemLibrary(name: "CLibZ", path: "Sources/CLibZ", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
]

let swift5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "DocFlow",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fcgi-app", targets: ["fcgi-app"]),
        .executable(name: "job-runner", targets: ["job-runner"]),
        .executable(name: "janitor", targets: ["janitor"]),
        .executable(name: "ws-gateway", targets: ["ws-gateway"]),
        .executable(name: "docflow", targets: ["docflow"]),
        .executable(name: "convert-worker", targets: ["convert-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // Traces: the libraries speak swift-distributed-tracing's API; only the executables link
        // swift-otel (OTLP over HTTP only: the gRPC trait is left off, it builds slowly).
        .package(url: "https://github.com/apple/swift-distributed-tracing", exact: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/swift-otel/swift-otel", exact: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: cLibraries + [
        // C-free core every process shares: config, logging, the client identity, the storage
        // layout, input bytes and output sinks, allocator tuning.
        .target(name: "DocFlowCore", dependencies: [.product(name: "Logging", package: "swift-log"),
                                                    .product(name: "Tracing", package: "swift-distributed-tracing")], swiftSettings: swift5),
        // Traces exported over OTLP/HTTP (swift-otel): linked by the executables only.
        .target(name: "DocFlowTelemetry", dependencies: [
            "DocFlowCore", .product(name: "OTel", package: "swift-otel"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swift5),
        // Hubs: the Document and Table models every reader produces and every writer consumes.
        .target(name: "DocFlowModel", dependencies: ["DocFlowCore"], swiftSettings: swift5),
        // C-free: format names and the conversion matrix, for the processes that do not convert.
        .target(name: "DocFlowFormats", dependencies: ["DocFlowCore"], swiftSettings: swift5),
        // Pure converters (no database, no network) and the registry of readers and writers.
        .target(name: "DocFlowConvert", dependencies: [
            "DocFlowCore", "DocFlowFormats", "DocFlowModel", "CCmarkGFM", "CLibXML2", "CPangoCairo", "CCompression", "CXLSXWriter", "CLibZip", "CPopplerText", "CGdkPixbuf", "CHarfBuzz", "CUchardet",
        ], swiftSettings: swift5),
        // poppler's text extraction (pdftotext's TextOutputDev) behind a small C interface.
        .target(name: "CPopplerText", dependencies: ["CPopplerCore"]),
        // The one place that wraps libcrypto (OpenSSL's EVP): SHA-256 of uploads.
        .target(name: "DocFlowCrypto", dependencies: ["CLibCrypto"], swiftSettings: swift5),
        // S3-compatible object storage: AWS Signature Version 4 (headers, presigned URLs, POST policies).
        .target(name: "DocFlowS3", dependencies: ["DocFlowCore", "DocFlowCrypto", "DocFlowHTTP"], swiftSettings: swift5),
        // HTTP requests over libcurl (Debian's libcurl): the S3 client's and the webhook sender's.
        .target(name: "DocFlowHTTP", dependencies: ["CCurl"], swiftSettings: swift5),
        // Webhooks: the URL check (fcgi-app, at upload) lives in DocFlowCore; this is the sender the
        // runners and the janitor run over the outbox (signing, pinning, retries).
        .target(name: "DocFlowWebhooks", dependencies: ["DocFlowCore", "DocFlowCrypto", "DocFlowStore", "DocFlowHTTP",
                                                       .product(name: "Logging", package: "swift-log"), .product(name: "Tracing", package: "swift-distributed-tracing")], swiftSettings: swift5),
        // PostgreSQL access (libpq), migrations, queries.
        .target(name: "DocFlowStore",
                dependencies: ["DocFlowCore", "CLibPQ", .product(name: "Logging", package: "swift-log")],
                resources: [.embedInCode("Migrations")], swiftSettings: swift5),
        // HTTP API on plain Request/Response values: routing, handlers, multipart, sniffing; its
        // OpenAPI description (openapi.json, served at /api/openapi.json).
        .target(name: "DocFlowWeb", dependencies: ["DocFlowCore", "DocFlowCrypto", "DocFlowStore", "DocFlowFormats", "CLibMagic", "CLibZ", .product(name: "Tracing", package: "swift-distributed-tracing")],
                resources: [.embedInCode("openapi.json")], swiftSettings: swift5),
        // Converters in a sandboxed child process: the worker's loop, the runner's pool of workers,
        // the channel between them (no database, no network).
        .target(name: "DocFlowSandbox", dependencies: ["DocFlowCore", "DocFlowConvert", "DocFlowModel"], swiftSettings: swift5),
        // The runner loop and the janitor passes.
        .target(name: "DocFlowJobs", dependencies: ["DocFlowCore", "DocFlowCrypto", "DocFlowStore", "DocFlowSandbox", .product(name: "Tracing", package: "swift-distributed-tracing")], swiftSettings: swift5),
        .target(name: "DocFlowJanitor", dependencies: ["DocFlowCore", "DocFlowStore", .product(name: "Logging", package: "swift-log")], swiftSettings: swift5),

        .executableTarget(name: "fcgi-app", dependencies: ["DocFlowCore", "DocFlowS3", "DocFlowWeb", "DocFlowTelemetry", "CFastCGI"], swiftSettings: swift5),
        .executableTarget(name: "job-runner", dependencies: ["DocFlowCore", "DocFlowS3", "DocFlowJobs", "DocFlowModel", "DocFlowSandbox", "DocFlowWebhooks", "DocFlowTelemetry"], swiftSettings: swift5),
        .executableTarget(name: "convert-worker", dependencies: ["DocFlowCore", "DocFlowSandbox"], swiftSettings: swift5),
        .executableTarget(name: "janitor", dependencies: ["DocFlowCore", "DocFlowS3", "DocFlowJanitor", "DocFlowWebhooks"], swiftSettings: swift5),
        .executableTarget(name: "ws-gateway", dependencies: [
            "DocFlowCore", "DocFlowStore", "DocFlowTelemetry", .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
        ], swiftSettings: swift5),
        .executableTarget(name: "docflow", dependencies: [
            "DocFlowCore", "DocFlowConvert", "DocFlowModel", "DocFlowS3",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: swift5),

        .testTarget(name: "DocFlowConvertTests", dependencies: ["DocFlowCore", "DocFlowConvert"], swiftSettings: swift5),
        // A real PostgreSQL for the store's and the runner's tests (DOCFLOW_TEST_DATABASE).
        .target(name: "TestDatabase", dependencies: ["DocFlowCore", "DocFlowStore"], path: "Tests/TestDatabase", swiftSettings: swift5),
        .testTarget(name: "DocFlowCoreTests", dependencies: ["DocFlowCore", .product(name: "Tracing", package: "swift-distributed-tracing")], swiftSettings: swift5),
        .testTarget(name: "DocFlowCryptoTests", dependencies: ["DocFlowCrypto"], swiftSettings: swift5),
        .testTarget(name: "DocFlowS3Tests", dependencies: ["DocFlowS3", "DocFlowHTTP"], swiftSettings: swift5),
        .testTarget(name: "DocFlowModelTests", dependencies: ["DocFlowModel"], swiftSettings: swift5),
        .testTarget(name: "DocFlowJanitorTests", dependencies: ["DocFlowCore", "DocFlowStore", "DocFlowJanitor", "TestDatabase",
                                                              .product(name: "Logging", package: "swift-log")], swiftSettings: swift5),
        .testTarget(name: "DocFlowStoreTests", dependencies: ["DocFlowCore", "DocFlowStore", "TestDatabase"], swiftSettings: swift5),
        .testTarget(name: "DocFlowJobsTests", dependencies: ["DocFlowCore", "DocFlowStore", "DocFlowJobs", "TestDatabase",
                                                           .product(name: "Logging", package: "swift-log")], swiftSettings: swift5),
        .testTarget(name: "DocFlowFormatsTests", dependencies: ["DocFlowFormats"], swiftSettings: swift5),
        .testTarget(name: "DocFlowWebTests", dependencies: ["DocFlowCore", "DocFlowWeb"], swiftSettings: swift5),
        .testTarget(name: "DocFlowSandboxTests", dependencies: ["DocFlowSandbox"], swiftSettings: swift5),
        .testTarget(name: "DocFlowWebhooksTests", dependencies: ["DocFlowWebhooks"], swiftSettings: swift5),
    ]
)
