// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "slawatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slawatch", targets: ["slawatch"]),
        // For the separate Benchmarks/ package.
        .library(name: "SLAWatchCoreLibrary", targets: ["SLAWatchCore"]),
        .library(name: "SLAWatchStoreLibrary", targets: ["SLAWatchStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .target(name: "Systemd", dependencies: ["CSystemd"]),
        .target(name: "CLinux"),
        .target(name: "SLAWatchCore", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(
            name: "SLAWatchStore",
            dependencies: ["SLAWatchCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "SLAWatchDaemon",
            dependencies: [
                "SLAWatchCore", "SLAWatchStore", "Systemd", "CLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "slawatch",
            dependencies: [
                "SLAWatchDaemon", "SLAWatchCore", "SLAWatchStore", "Systemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // What the test targets share: external programs found by name with the Debian package
        // that provides them, process runs, and the tests' own journal (scripts/test-journal.sh).
        .target(name: "SLAWatchTestSupport", path: "TestSupport"),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd", "SLAWatchTestSupport"]),
        .testTarget(name: "SLAWatchCoreTests", dependencies: ["SLAWatchCore"]),
        .testTarget(
            name: "SLAWatchStoreTests",
            dependencies: ["SLAWatchStore", "SLAWatchCore", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Fixtures"]  // read by path (#filePath), not bundled
        ),
        .testTarget(
            name: "SLAWatchDaemonTests",
            dependencies: [
                "SLAWatchDaemon", "SLAWatchCore", "SLAWatchStore", "Systemd", "CLinux", "SLAWatchTestSupport",
            ],
            exclude: ["Fixtures"]  // golden files read by path (#filePath), not bundled
        ),
    ]
)
