// A C++ program using optkern's C API: three AdamW steps on a float64
// tensor, and an MSE loss with its gradient, printed as exact hex floats
// (%a); tests/test_embedding.py compares them with optkern's Python API.
//
// Build against the installed Python package (README: Embedding):
//   cmake -S . -B build -Doptkern_DIR="$(python -m optkern --cmakedir)"
//   cmake --build build && ./build/adamw_mse
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <optkern/optkern.h>  // C declarations inside extern "C"

// optkern's calls return a status; this turns an error into an exception.
static void check(ok_status status, const char *call) {
    if (status != OK_SUCCESS)
        throw std::runtime_error(std::string(call) + ": " + ok_status_string(status));
}

static void print(const char *name, const std::vector<double> &x) {
    std::printf("%s", name);
    for (double value : x)
        std::printf(" %a", value);
    std::printf("\n");
}

int main() {
    // AdamW: Adam with decoupled weight decay (torch.optim.AdamW).
    std::vector<double> param = {0.5, -1.25, 2.0, 0.0, -0.75};
    const std::vector<double> grad = {0.3, -0.1, 0.02, 1.0, -2.5};
    std::vector<double> exp_avg(param.size()), exp_avg_sq(param.size());

    double *params[] = {param.data()};
    const double *grads[] = {grad.data()};
    double *exp_avgs[] = {exp_avg.data()};
    double *exp_avg_sqs[] = {exp_avg_sq.data()};
    const size_t numel[] = {param.size()};

    ok_adam_hparams adamw = OK_ADAM_DEFAULTS;
    adamw.lr = 0.01;
    adamw.weight_decay = 0.01;
    adamw.decoupled_weight_decay = 1;
    for (adamw.step = 1; adamw.step <= 3; adamw.step++)
        check(ok_adam_f64(&adamw, 1, nullptr, 1, numel, params, grads, exp_avgs, exp_avg_sqs, nullptr),
              "ok_adam_f64");
    print("param", param);

    // Mean squared error of param against a target, and its gradient.
    const std::vector<double> target = {0.0, -1.0, 1.5, 0.5, -1.0};
    double loss;
    std::vector<double> loss_grad(param.size());
    check(ok_mse_loss_f64(param.size(), param.data(), target.data(), nullptr, OK_REDUCTION_MEAN, &loss,
                          loss_grad.data()),
          "ok_mse_loss_f64");
    print("loss", {loss});
    print("grad", loss_grad);
    return 0;
}
