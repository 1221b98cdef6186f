/*
 * A C program that embeds optkern's static library: three Adam steps on a
 * list of two tensors, and a cross-entropy with its gradient. It prints the
 * results as exact hex floats (%a); tests/test_embedding.py compares them
 * with optkern's Python API bit for bit.
 *
 * Build against the installed Python package (README: Embedding):
 *   cmake -S . -B build -Doptkern_DIR="$(python -m optkern --cmakedir)"
 *   cmake --build build && ./build/adam_cross_entropy
 * or, without CMake:
 *   cc main.c $(python -m optkern --cflags --libs) -o adam_cross_entropy
 */
#include <stdio.h>

#include <optkern/optkern.h>

static void print(const char *name, const float *x, size_t n) {
    size_t i;
    printf("%s", name);
    for (i = 0; i < n; i++)
        printf(" %a", (double)x[i]);
    printf("\n");
}

/* Every optkern call returns a status; an error has written nothing. */
static int failed(ok_status status, const char *call) {
    if (status != OK_SUCCESS)
        fprintf(stderr, "%s: %s\n", call, ok_status_string(status));
    return status != OK_SUCCESS;
}

int main(void) {
    /* Adam (torch.optim.Adam's defaults, lr 0.01) on a weight and a bias:
     * one call per step updates the whole list. */
    float weight[6] = {0.5f, -1.25f, 2.0f, 0.0f, -0.75f, 1.5f};
    float bias[2] = {0.1f, -0.2f};
    const float weight_grad[6] = {0.3f, -0.1f, 0.02f, 1.0f, -2.5f, 0.0f};
    const float bias_grad[2] = {-0.4f, 0.7f};
    float weight_m[6] = {0}, weight_v[6] = {0}, bias_m[2] = {0}, bias_v[2] = {0};

    float *params[] = {weight, bias};
    const float *grads[] = {weight_grad, bias_grad};
    float *exp_avg[] = {weight_m, bias_m};
    float *exp_avg_sq[] = {weight_v, bias_v};
    const size_t numel[] = {6, 2};

    ok_adam_hparams adam = OK_ADAM_DEFAULTS;
    adam.lr = 0.01;
    for (adam.step = 1; adam.step <= 3; adam.step++)
        if (failed(ok_adam_f32(&adam, 1, NULL, 2, numel, params, grads, exp_avg, exp_avg_sq, NULL), "ok_adam_f32"))
            return 1;
    print("weight", weight, 6);
    print("bias", bias, 2);

    /* Cross-entropy of 3 samples over 4 classes (mean over the samples,
     * label smoothing 0.1) and its gradient with respect to the logits. */
    const float logits[3 * 4] = {1.0f, 2.0f, 0.5f, -1.0f,
                                 0.0f, -0.5f, 3.0f, 0.25f,
                                 2.5f, 2.5f, -2.0f, 1.0f};
    const int64_t labels[3] = {1, 2, 0};
    ok_cross_entropy_options options = OK_CROSS_ENTROPY_DEFAULTS;
    options.label_smoothing = 0.1;
    float loss, grad[3 * 4];
    if (failed(ok_cross_entropy_f32(3, 4, 1, logits, labels, OK_INDEX_INT64, &options, &loss, grad),
               "ok_cross_entropy_f32"))
        return 1;
    print("loss", &loss, 1);
    print("grad", grad, 3 * 4);
    return 0;
}
