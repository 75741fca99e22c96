// swift-tools-version:6.1
// Benchmarks for slawatch, kept out of the main package so its build stays fast.
//   cd Benchmarks && swift build -c release
//   LD_PRELOAD=$(swift build -c release --show-bin-path)/libMallocInterposerSwift.so \
//       $(swift build -c release --show-bin-path)/ingest-allocations
import PackageDescription

let package = Package(
    name: "slawatch-benchmarks",
    dependencies: [
        .package(name: "slawatch", path: ".."),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "ingest-allocations",
            dependencies: [
                .product(name: "SLAWatchCoreLibrary", package: "slawatch"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            path: "Sources/IngestAllocations"
        ),
        .executableTarget(
            name: "ingest-instructions",
            dependencies: [
                .product(name: "SLAWatchCoreLibrary", package: "slawatch"),
                .product(name: "SLAWatchStoreLibrary", package: "slawatch"),
            ],
            path: "Sources/IngestInstructions"
        ),
        .executableTarget(
            name: "make-state",
            dependencies: [
                .product(name: "SLAWatchCoreLibrary", package: "slawatch"),
                .product(name: "SLAWatchStoreLibrary", package: "slawatch"),
            ],
            path: "Sources/MakeState"
        ),
        .executableTarget(
            name: "history-size",
            dependencies: [
                .product(name: "SLAWatchCoreLibrary", package: "slawatch"),
                .product(name: "SLAWatchStoreLibrary", package: "slawatch"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Sources/HistorySize"
        ),
    ]
)
