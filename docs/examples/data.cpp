// Data helpers: CSV with a text label column, label encoding, one-hot, standardizing,
// reshaping with -1, splitting.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <plexus.hpp>

namespace px = plexus;

int main() {
  // An Iris-like file: four numbers and a species name per line.
  const auto path = std::filesystem::temp_directory_path() / "plexus_docs_flowers.csv";
  {
    std::ofstream f(path);
    f << "5.1,3.5,1.4,0.2,Iris-setosa\n7.0,3.2,4.7,1.4,Iris-versicolor\n"
         "6.3,3.3,6.0,2.5,Iris-virginica\n4.9,3.0,1.4,0.2,Iris-setosa\n";
  }
  auto [x, y, classes] = px::datasets::load_csv_labeled(path);  // y: 0, 1, 2, 0
  px::Tensor onehot = px::utils::to_categorical(y, 3);
  std::printf("%zu rows, classes: %s, %s, %s\n", x.shape()[0], classes[0].c_str(),
              classes[1].c_str(), classes[2].c_str());

  // Or step by step: text columns, then a LabelEncoder.
  auto text = px::datasets::read_csv_text(path);
  px::utils::LabelEncoder enc;
  px::Tensor ids = enc.fit_transform(text.column(-1));
  std::filesystem::remove(path);

  // Per-column statistics (population std, as np.std) and standardizing.
  px::Tensor mu = px::utils::mean(x, 0), sd = px::utils::stddev(x, 0);
  px::utils::StandardScaler scaler;
  px::Tensor z = scaler.fit_transform(x);
  std::cout << "column means " << mu << "\nstandardized first row " << xt::view(z, 0, xt::all())
            << "\n";

  // x.reshape(-1, 2) and a split.
  px::Tensor pairs = px::utils::reshape(x, {-1, 2});
  auto split = px::utils::train_test_split(x, onehot, {.test_size = 0.5, .random_state = 1});
  try {
    px::utils::reshape(x, {-1, 3});
  } catch (const px::Error& e) {
    std::printf("as expected: %s\n", e.what());
  }
  return ids == y && pairs.shape()[0] == 8 && split.x_test.shape()[0] == 2 &&
                 std::abs(px::utils::mean(z, 0)(0)) < 1e-5f && sd(0) > 0
             ? 0
             : 1;
}
