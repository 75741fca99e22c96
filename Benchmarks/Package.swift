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
            dependencies: [.product(name: "SLAWatchCoreLibrary", package: "slawatch")],
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
    ]
)
