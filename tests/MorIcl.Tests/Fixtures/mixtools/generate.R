# Independent reference fixtures for `mor-icl em`: mixtools::regmixEM (Benaglia et al. 2009) run to a
# tight tolerance from the same initialisation, on synthetic data written by `mor-icl sample` and on
# two small real data sets shipped with R packages. Not run by CI; rerun with
#   apt-get install r-base-core r-cran-mixtools r-cran-flexmix
#   Rscript generate.R        (in this folder)
# Each case NAME has NAME.csv (x1..xd,y), NAME.init.json (beta, mixing, sigma) and NAME.expected.json.
suppressMessages({ library(mixtools); library(flexmix) })

write_json_num <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ","), "]")

write_case <- function(name, x, y, init_beta, init_lambda, init_sigma, arbvar = TRUE) {
  d <- ncol(x); k <- ncol(init_beta)
  df <- data.frame(x, y); colnames(df) <- c(paste0("x", 1:d), "y")
  if (!file.exists(paste0(name, ".csv"))) write.csv(df, paste0(name, ".csv"), row.names = FALSE, quote = FALSE)
  init <- paste0('{"beta": [', paste(sapply(1:k, function(j) write_json_num(init_beta[, j])), collapse = ","),
                 '], "mixing": ', write_json_num(init_lambda), ', "sigma": ', write_json_num(init_sigma), '}')
  writeLines(init, paste0(name, ".init.json"))
  sig0 <- if (arbvar) init_sigma else init_sigma[1]
  fit <- regmixEM(y, as.matrix(x), lambda = init_lambda, beta = init_beta, sigma = sig0, k = k,
                  addintercept = FALSE, arbvar = arbvar, epsilon = 1e-14, maxit = 100000)
  sig <- if (length(fit$sigma) == 1) rep(fit$sigma, k) else fit$sigma
  out <- paste0('{"beta": [', paste(sapply(1:k, function(j) write_json_num(fit$beta[, j])), collapse = ","),
                '], "mixing": ', write_json_num(fit$lambda), ', "sigma": ', write_json_num(sig),
                ', "logLikelihood": ', sprintf("%.17g", fit$loglik), ', "restarts": ', fit$restarts,
                ', "variance": "', if (arbvar) "per-component" else "shared", '"}')
  writeLines(out, paste0(name, ".expected.json"))
  cat(name, ": loglik", fit$loglik, "iterations", length(fit$all.loglik), "restarts", fit$restarts, "\n")
}

read_case <- function(name) { df <- read.csv(paste0(name, ".csv")); list(x = as.matrix(df[, -ncol(df)]), y = df$y) }

# Synthetic cases (CSV written by mor-icl sample beforehand).
s <- read_case("k2_d3"); write_case("k2_d3", s$x, s$y, cbind(c(0.5, -0.2, 0.3), c(-0.4, 0.1, -0.3)), c(0.5, 0.5), c(1, 1))
s <- read_case("k3_d4"); write_case("k3_d4", s$x, s$y, cbind(c(0.3, 0, 0, 0.2), c(0, 0.4, -0.2, 0), c(-0.3, -0.1, 0.2, 0.1)), c(0.3, 0.3, 0.4), c(0.8, 0.8, 0.8))
s <- read_case("k2_d2_lowsnr"); write_case("k2_d2_lowsnr", s$x, s$y, cbind(c(0.4, 0.1), c(-0.2, 0.3)), c(0.6, 0.4), c(1.2, 0.9))
file.copy("k2_d3.csv", "k2_d3_shared.csv", overwrite = TRUE)
s <- read_case("k2_d3_shared"); write_case("k2_d3_shared", s$x, s$y, cbind(c(0.5, -0.2, 0.3), c(-0.4, 0.1, -0.3)), c(0.5, 0.5), c(1, 1), arbvar = FALSE)

# Real data 1: mixtools' NOdata (NO emissions against equivalence ratio), intercept as x1.
data(NOdata)
write_case("nodata", cbind(1, NOdata$Equivalence), NOdata$NO, cbind(c(-1, 3), c(6, -4)), c(0.5, 0.5), c(0.5, 0.5))
# Real data 2: flexmix's NPreg, response yn on (1, x, x^2).
data(NPreg)
write_case("npreg", cbind(1, NPreg$x, NPreg$x^2), NPreg$yn, cbind(c(0, 4, 0), c(12, 8, -0.8)), c(0.5, 0.5), c(3, 3))
