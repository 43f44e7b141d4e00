#pragma once
// task::SealedStore: a meta::Store decorator that keeps the secrets of task documents encrypted
// at rest (metaStoreConfig.secretKeyFile; docs/security.md): PutTask/PutTaskAndPositions seal
// them (SealSecrets), ListTasks/GetTask open them (OpenSecrets); positions pass through. The
// task layer above sees plain documents.
//
// PrepareStoredSecrets runs once at start-up, before anything reads tasks: it checks every
// stored task document against the configured key (or its absence) and fails, naming the
// task, the field and the key file, without writing anything if one cannot be opened (sealed
// but no key configured, or sealed with another key). Only when all check out and a key is
// configured does it re-write the documents that still hold plain secrets (tasks written
// before the key was configured). Documents that are not JSON are left to TaskManager::Recover.
//
// Threads: as the wrapped store (every method may be called from any thread).
// Ownership: owns the wrapped store.
#include <memory>
#include <string>

#include "common/crypto.h"
#include "meta/store.h"

namespace cdc::task {

class SealedStore : public meta::Store {
 public:
  SealedStore(std::unique_ptr<meta::Store> inner, crypto::AesKey key, std::string key_file);

  std::string Describe() const override { return inner_->Describe(); }
  Result<std::vector<meta::TaskRecord>> ListTasks() override;
  Result<std::optional<meta::TaskRecord>> GetTask(const std::string& task_id) override;
  Status PutTask(const meta::TaskRecord& task) override;
  Status DeleteTask(const std::string& task_id) override { return inner_->DeleteTask(task_id); }
  Result<std::vector<meta::PositionRecord>> ListPositions(const std::string& task_id) override {
    return inner_->ListPositions(task_id);
  }
  Status PutPositions(const std::vector<meta::PositionRecord>& rows) override {
    return inner_->PutPositions(rows);
  }
  Status PutTaskAndPositions(const meta::TaskRecord& task,
                             const std::vector<meta::PositionRecord>& rows) override;
  Status DeletePosition(const std::string& task_id, int64_t collection_id) override {
    return inner_->DeletePosition(task_id, collection_id);
  }

 private:
  Result<meta::TaskRecord> Seal(const meta::TaskRecord& task) const;
  Result<meta::TaskRecord> Open(const meta::TaskRecord& task) const;

  std::unique_ptr<meta::Store> inner_;
  crypto::AesKey key_;
  std::string key_file_;
};

// See above. `key` null = no key configured; `key_file` names it in messages.
Status PrepareStoredSecrets(meta::Store* store, const crypto::AesKey* key,
                            const std::string& key_file);

}  // namespace cdc::task
